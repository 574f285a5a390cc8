// The flash message an action's redirect carries in its query (?flash=…&fs=…), signed with the
// browser's CSRF token (an HMAC): a page shows it only when the signature matches, so a link
// someone sends cannot make the dashboard display their text ("session expired, sign in at …").
import { createHmac } from 'node:crypto';
import { same } from './auth.js';

const MAX = 300;

export function flashSignature(csrf: string, text: string): string {
  return createHmac('sha256', csrf).update(`verk-web-flash\0${text}`).digest('base64url').slice(0, 22);
}

/** The query fields of a flash for the redirect after an action. */
export function flashQuery(csrf: string, text: string): { flash: string; fs: string } {
  const t = text.slice(0, MAX);
  return { flash: t, fs: flashSignature(csrf, t) };
}

/** The flash of a request's query, or undefined when it has none or it is not signed for this browser. */
export function readFlash(q: URLSearchParams, csrf: string): string | undefined {
  const text = q.get('flash');
  const sig = q.get('fs');
  if (!text || !sig || text.length > MAX) return undefined;
  return same(flashSignature(csrf, text), sig) ? text : undefined;
}
