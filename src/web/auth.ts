// Who is asking: the web dashboard's credentials (webAuth = operator, webReadAuth = read-only;
// see src/config/web-auth.ts), checked on every request from an Authorization header (Bearer
// token or Basic) or a session cookie set by the token login form. The cookie is
// "<role>.<expiry ms>.<HMAC>" keyed by a hash of that role's secret: every server started with
// the same credentials accepts it, and changing a credential ends its sessions. Secrets are
// compared in constant time and never logged or written anywhere.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parseWebAuth, type WebCredential } from '../config/web-auth.js';
import { ConfigError } from '../util/errors.js';
import { cookie } from './cookies.js';

export type Role = 'operator' | 'read';

export interface Principal {
  /** The basic-auth user, "token", or "anonymous" (no credentials configured). */
  who: string;
  role: Role;
}

export const SESSION_COOKIE = 'verk_session';
const SESSION_MS = 12 * 3600_000;

interface Credential {
  role: Role;
  cred: WebCredential;
  sessionKey: Buffer;
}

export class Auth {
  private readonly creds: Credential[] = [];
  /** No credentials: everyone is an operator (only allowed on loopback unless webAuth is `none`). */
  readonly open: boolean;
  /** No credentials at all (webAuth empty, not `none`): the dashboard is for loopback clients only. */
  readonly loopbackOnly: boolean;

  constructor(webAuth: string, webReadAuth: string) {
    const op = parseWebAuth(webAuth);
    const read = parseWebAuth(webReadAuth);
    if (read === 'none') throw new ConfigError('`webReadAuth` cannot be none: leave it empty for no read-only login');
    if (read && !op) throw new ConfigError('`webReadAuth` needs `webAuth` (the operator credentials) as well');
    if (read && op === 'none') throw new ConfigError('`webReadAuth` with `webAuth` none would let anyone act: set operator credentials in webAuth');
    this.open = op === undefined || op === 'none';
    this.loopbackOnly = op === undefined;
    if (op && op !== 'none') this.add('operator', op);
    if (read) this.add('read', read);
  }

  private add(role: Role, cred: WebCredential): void {
    const secret = cred.kind === 'token' ? cred.secret : `${cred.user}:${cred.password}`;
    this.creds.push({ role, cred, sessionKey: createHash('sha256').update(`verk-web-session\0${role}\0${secret}`).digest() });
  }

  /** True when a login form is offered (a token credential exists). */
  get hasToken(): boolean {
    return this.creds.some((c) => c.cred.kind === 'token');
  }

  get hasBasic(): boolean {
    return this.creds.some((c) => c.cred.kind === 'basic');
  }

  /** The principal of a request, or undefined when it brings no valid credential. */
  authenticate(req: IncomingMessage): Principal | undefined {
    if (this.open) return { who: 'anonymous', role: 'operator' };
    const header = req.headers.authorization ?? '';
    const [scheme, value = ''] = header.split(' ', 2);
    if (/^bearer$/i.test(scheme)) return this.byToken(value.trim());
    if (/^basic$/i.test(scheme)) {
      const text = Buffer.from(value, 'base64').toString('utf8');
      const i = text.indexOf(':');
      if (i < 0) return undefined;
      const user = text.slice(0, i);
      const password = text.slice(i + 1);
      for (const c of this.creds) {
        if (c.cred.kind === 'basic' && same(c.cred.user, user) && same(c.cred.password, password)) return { who: c.cred.user, role: c.role };
      }
      return undefined;
    }
    return this.bySession(cookie(req, SESSION_COOKIE));
  }

  byToken(token: string): Principal | undefined {
    for (const c of this.creds) if (c.cred.kind === 'token' && same(c.cred.secret, token)) return { who: 'token', role: c.role };
    return undefined;
  }

  /** A session cookie value for a principal that logged in with a token. */
  session(role: Role, nowMs = Date.now()): string {
    const c = this.creds.find((x) => x.role === role && x.cred.kind === 'token');
    if (!c) throw new Error(`no token credential for role ${role}`);
    const body = `${role}.${nowMs + SESSION_MS}`;
    return `${body}.${sign(c.sessionKey, body)}`;
  }

  private bySession(value: string | undefined, nowMs = Date.now()): Principal | undefined {
    if (!value) return undefined;
    const [role, expiry, mac] = value.split('.');
    if ((role !== 'operator' && role !== 'read') || !(Number(expiry) > nowMs) || !mac) return undefined;
    for (const c of this.creds) {
      if (c.role === role && c.cred.kind === 'token' && same(sign(c.sessionKey, `${role}.${expiry}`), mac)) return { who: 'token', role };
    }
    return undefined;
  }
}

function sign(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

/** Constant-time comparison of two strings (of any lengths: both are hashed first). */
export function same(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
