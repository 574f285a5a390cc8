// Signing in to the dashboard: the token login form (POST /login sets the session cookie), the
// challenge for a request without a valid credential, and the lock-out of an address that keeps
// guessing (src/web/login-limit.ts): a lock-out is audited once.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminContext } from '../api/admin-context.js';
import { appendAudit } from '../api/audit.js';
import { WEB_LOGIN } from '../config/defaults.js';
import { SESSION_COOKIE, type Auth, type Principal } from './auth.js';
import { readForm } from './body.js';
import { setCookie } from './cookies.js';
import { csrfProblem } from './csrf.js';
import type { FailedLogins } from './login-limit.js';
import { loginPage } from './pages/login.js';
import { redirect, sendPage, text } from './respond.js';

/** What signing in needs of the dashboard server. */
export interface SignIn {
  base: string;
  auth: Auth;
  logins: FailedLogins;
  admin: AdminContext;
  settings: { auditLength: number };
}

export async function login(req: IncomingMessage, res: ServerResponse, s: SignIn, csrf: string, cookiePath: string): Promise<void> {
  const p = { base: s.base, csrf };
  if (!s.auth.hasToken) return redirect(res, `${s.base}/`);
  if (req.method !== 'POST') return sendPage(res, 200, loginPage(p));
  const form = await readForm(req);
  const problem = csrfProblem(req, form);
  if (problem) return sendPage(res, 403, loginPage(p, `CSRF check failed: ${problem}`));
  const wait = s.logins.retryAfterMs(clientAddress(req));
  if (wait > 0) {
    res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
    return sendPage(res, 429, loginPage(p, `Too many failed sign-ins from your address: try again in ${Math.ceil(wait / 1000)} s.`));
  }
  const who: Principal | undefined = s.auth.byToken(form.get('token') ?? '');
  if (!who) {
    await failedSignIn(req, s);
    return sendPage(res, 401, loginPage(p, 'That token is not valid.'));
  }
  setCookie(req, res, SESSION_COOKIE, s.auth.session(who.role), { path: cookiePath, maxAgeS: 12 * 3600 });
  redirect(res, `${s.base}/`);
}

function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? '';
}

/** Answers 429 (true) when the request's address has used up its sign-in tries. */
export function lockedOut(req: IncomingMessage, res: ServerResponse, s: SignIn): boolean {
  const wait = s.logins.retryAfterMs(clientAddress(req));
  if (wait <= 0) return false;
  res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
  text(res, 429, `too many failed sign-ins from this address: try again in ${Math.ceil(wait / 1000)} s`);
  return true;
}

/** Counts a wrong credential; the failure that locks an address out is audited (once per lock-out). */
export async function failedSignIn(req: IncomingMessage, s: SignIn): Promise<void> {
  const ip = clientAddress(req);
  if (!s.logins.fail(ip)) return;
  await appendAudit(
    s.admin,
    {
      at: new Date().toISOString(),
      who: 'unknown',
      role: 'none',
      ip,
      action: 'sign-in',
      target: '',
      result: `refused: ${WEB_LOGIN.maxFailures} failed sign-ins within ${WEB_LOGIN.windowMs / 1000} s; this address waits until the oldest is ${WEB_LOGIN.windowMs / 1000} s old`,
    },
    s.settings.auditLength,
  );
}

export function challenge(req: IncomingMessage, res: ServerResponse, s: SignIn, csrf: string): void {
  const wantsHtml = (req.headers.accept ?? '').includes('text/html');
  if (s.auth.hasBasic) res.setHeader('WWW-Authenticate', 'Basic realm="verk", charset="UTF-8"');
  if (s.auth.hasToken && wantsHtml && req.method === 'GET' && !s.auth.hasBasic) redirect(res, `${s.base}/login`);
  else if (wantsHtml && s.auth.hasToken) sendPage(res, 401, loginPage({ base: s.base, csrf }, 'Sign in first.'));
  else text(res, 401, 'authentication required');
}
