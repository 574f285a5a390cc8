// The shape of the web dashboard's credentials (webAuth, webReadAuth): token:<secret>,
// basic:<user>:<password>, or (webAuth only) none. The check names what is wrong and never
// repeats the value, which is a secret.
export type WebCredential = { kind: 'token'; secret: string } | { kind: 'basic'; user: string; password: string };

/** Parses a credential spec; '' → undefined (not set), 'none' → 'none'. Throws on a bad one. */
export function parseWebAuth(spec: string): WebCredential | 'none' | undefined {
  if (spec === '') return undefined;
  if (spec === 'none') return 'none';
  if (spec.startsWith('token:')) {
    const secret = spec.slice('token:'.length);
    if (secret.length < 16) throw new Error('must be token:<secret> with a secret of at least 16 characters (e.g. `openssl rand -hex 24`)');
    return { kind: 'token', secret };
  }
  if (spec.startsWith('basic:')) {
    const rest = spec.slice('basic:'.length);
    const i = rest.indexOf(':');
    if (i <= 0 || i === rest.length - 1) throw new Error('must be basic:<user>:<password> with both parts non-empty');
    return { kind: 'basic', user: rest.slice(0, i), password: rest.slice(i + 1) };
  }
  throw new Error('must be token:<secret>, basic:<user>:<password> or none (the value is not shown: it may be a secret)');
}

export function checkWebAuth(spec: string): void {
  parseWebAuth(spec);
}
