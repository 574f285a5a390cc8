// CSRF protection, double-submit: each browser gets a random token in an HttpOnly,
// SameSite=Strict cookie; every form carries it in a hidden `_csrf` field, and every POST must
// bring both, equal. A page on another site can neither read the cookie nor send it
// (SameSite=Strict), and an Origin header naming another host is refused as well.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { same } from './auth.js';
import { cookie, setCookie } from './cookies.js';

export const CSRF_COOKIE = 'verk_csrf';
export const CSRF_FIELD = '_csrf';

/** The request's CSRF token, set as a cookie when it has none yet. */
export function csrfToken(req: IncomingMessage, res: ServerResponse, cookiePath: string): string {
  const have = cookie(req, CSRF_COOKIE);
  if (have && /^[A-Za-z0-9_-]{32,}$/.test(have)) return have;
  const token = randomBytes(24).toString('base64url');
  setCookie(req, res, CSRF_COOKIE, token, { path: cookiePath });
  return token;
}

/** Why a POST fails the check, or undefined when it passes. */
export function csrfProblem(req: IncomingMessage, form: URLSearchParams): string | undefined {
  const origin = req.headers.origin;
  if (origin && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'unreadable Origin header';
    }
    const forwarded = req.headers['x-forwarded-host'];
    if (host !== req.headers.host && host !== forwarded) return `Origin ${origin} is not this site`;
  }
  const have = cookie(req, CSRF_COOKIE);
  const sent = form.get(CSRF_FIELD);
  if (!have || !sent) return 'missing CSRF token (reload the page and try again)';
  if (!same(have, sent)) return 'CSRF token does not match (reload the page and try again)';
  return undefined;
}
