// Strict reading of a Redis URL (redis://[user:password@]host[:port][/db]), so a typo never makes
// ioredis fall back to another database: it reads "/abc" as db 0 and "/1/2" as db 1 without a word.
// Errors name the part that is wrong and never repeat the URL (it may hold a password).

export interface RedisUrlParts {
  tls: boolean;
  host: string;
  port: number;
  db: number;
}

const SHAPE = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i;
/** Redis numbers databases with a C int; the server says how many it really has. */
const MAX_DB = 2_147_483_647;

/** Parses a Redis URL or throws an Error naming the wrong part and the expected form. */
export function parseRedisUrl(url: string): RedisUrlParts {
  const fail = (why: string): never => {
    throw new Error(`${why} (expected redis://host[:port][/db], or rediss://… for TLS, e.g. redis://127.0.0.1:6379/0)`);
  };
  const m = SHAPE.exec(url.trim());
  if (!m) return fail('is not a URL');
  const [, scheme, , authority, path, query, fragment] = m;
  const s = scheme.toLowerCase();
  if (s !== 'redis' && s !== 'rediss') fail(`has scheme ${JSON.stringify(scheme + '://')}: use redis:// or rediss:// (TLS)`);
  if (fragment) fail('has a "#" fragment: write "#" in the password as %23');
  if (path.includes('@')) fail('has "@" after the host: write "/" in the password as %2F and "@" as %40');
  const hostPort = /^(\[[0-9a-f:.]+\]|[^:[\]]*)(?::(.*))?$/i.exec(authority);
  if (!hostPort || hostPort[1] === '') fail('names no host');
  const host = hostPort![1].replace(/^\[|\]$/g, '');
  let port = 6379;
  if (hostPort![2] !== undefined) {
    const p = hostPort![2];
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) fail(`has port ${JSON.stringify(p)}: use a number from 1 to 65535`);
    port = Number(p);
  }
  let db = 0;
  if (path !== '' && path !== '/') {
    const digits = path.slice(1);
    if (!/^\d{1,10}$/.test(digits) || Number(digits) > MAX_DB) fail(`has database ${JSON.stringify(digits)}: the path must be /N, a database number such as /0`);
    db = Number(digits);
  }
  if (query && new URLSearchParams(query.slice(1)).has('db')) fail('sets db in the query: give the database as the path (/N)');
  try {
    new URL(url.trim());
  } catch {
    fail('is not a URL');
  }
  return { tls: s === 'rediss', host, port, db };
}
