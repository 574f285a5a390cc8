// createWebHandler: the dashboard as a plain Node request handler, `(req, res) => void`, to
// serve with node:http (`verk web`, `verk work --web-port`) or mount in an existing Node app
// under a path (`basePath`; every link, form and cookie respects it). Per request: security
// headers, static assets, login, authentication, the CSRF cookie, then a page (GET) or an
// action (POST: operator role, CSRF check, audit). Built on src/api only.
import type { CronEntry } from '../config/cron.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { openAdmin, type AdminContext } from '../api/admin-context.js';
import { appendAudit } from '../api/audit.js';
import { DEFAULTS } from '../config/defaults.js';
import type { Logger } from '../util/logger.js';
import { runAction, NotFound } from './actions.js';
import { serveAsset } from './assets.js';
import { Auth, SESSION_COOKIE } from './auth.js';
import { BodyError, readForm } from './body.js';
import { cookie, setCookie } from './cookies.js';
import { csrfProblem, csrfToken } from './csrf.js';
import type { Req, WebSettings } from './context.js';
import { securityHeaders } from './headers.js';
import { readFlash } from './flash.js';
import { html, type Html } from './html.js';
import { layout, type PageCtx } from './layout.js';
import { LiveHub } from './live.js';
import { FailedLogins } from './login-limit.js';
import { redirect, sendPage, text } from './respond.js';
import { challenge, failedSignIn, lockedOut, login } from './sign-in.js';
import { ACTIONS, PAGES, match } from './routes.js';

export interface WebOptions {
  /** Redis URL (default redis://127.0.0.1:6379/0); or pass `redis`. */
  redisUrl?: string;
  /** An existing ioredis client (not closed by close()). */
  redis?: Redis;
  /** Key prefix, as the workers' `prefix`. */
  prefix?: string;
  /** Where the handler is mounted, e.g. '/admin/verk' (default '' = the root). */
  basePath?: string;
  /** Operator credentials: token:<secret>, basic:<user>:<password>, none, or '' (webAuth). */
  auth?: string;
  /** Read-only credentials (webReadAuth). */
  readAuth?: string;
  /** How often the one live poll runs, ms (webPollInterval). */
  pollIntervalMs?: number;
  /** Actions kept in verk:web:audit (webAuditLength). */
  auditLength?: number;
  /** How a Kill trims the dead set, as the workers do (deadTimeout ms, deadMaxJobs). */
  deadTimeout?: number;
  deadMaxJobs?: number;
  /** The periodic jobs (config `cron`): the Cron page lists them beside their state in Redis. */
  cron?: readonly CronEntry[];
  log?: Logger;
}

export interface WebHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** The live poll and its streams (tests, measurements). */
  readonly live: LiveHub;
  readonly auth: Auth;
  /** Ends the live streams and closes the Redis connection if the handler opened it. */
  close(): Promise<void>;
}

export function createWebHandler(opts: WebOptions = {}): WebHandler {
  const base = normalizeBase(opts.basePath ?? '');
  const auth = new Auth(opts.auth ?? '', opts.readAuth ?? '');
  const admin = openAdmin({ redisUrl: opts.redisUrl ?? DEFAULTS.redisUrl, prefix: opts.prefix, redis: opts.redis });
  const live = new LiveHub(admin, opts.pollIntervalMs ?? DEFAULTS.webPollInterval, opts.log);
  const settings: WebSettings = {
    auditLength: opts.auditLength ?? DEFAULTS.webAuditLength,
    dead: { deadTimeout: opts.deadTimeout ?? DEFAULTS.deadTimeout, deadMaxJobs: opts.deadMaxJobs ?? DEFAULTS.deadMaxJobs },
    cron: opts.cron ?? [],
  };
  const refusals = new Map<string, Refusal>();
  const logins = new FailedLogins();
  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    handle(req, res, { base, auth, admin, live, settings, refusals, logins }).catch((err: unknown) => {
      if (err instanceof BodyError) return text(res, err.status, err.message);
      if (!res.headersSent && redisUnavailable(admin, err)) {
        // Redis down or not answering: a clear page, within the command bound (redisCommandTimeout).
        opts.log?.warn('web: Redis unavailable for a request', { path: req.url, error: (err as Error).message });
        res.setHeader('Retry-After', '5');
        return sendPage(res, 503, unavailablePage(base, (err as Error).message));
      }
      opts.log?.error('web: request failed', { path: req.url, error: (err as Error).message });
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      }
      res.end(res.headersSent ? undefined : `internal error: ${(err as Error).message}\n`);
    });
  }) as WebHandler;
  Object.assign(handler, {
    live,
    auth,
    async close() {
      await live.close();
      await admin.close();
    },
  });
  return handler;
}

/** Refused attempts of one principal: audited at most once per REFUSAL_AUDIT_MS, the others counted into the next entry. */
interface Refusal {
  at: number;
  unlisted: number;
}

/**
 * A read-only user's refused actions are audited at most this often (per principal and server):
 * the audit list is bounded (webAuditLength), and a refusal per request would let read-only
 * credentials flush the operators' actions out of it.
 */
export const REFUSAL_AUDIT_MS = 60_000;

interface Server {
  refusals: Map<string, Refusal>;
  logins: FailedLogins;
  base: string;
  auth: Auth;
  admin: AdminContext;
  live: LiveHub;
  settings: WebSettings;
}

export function normalizeBase(basePath: string): string {
  const b = basePath.trim().replace(/\/+$/, '');
  if (b === '') return '';
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(b)) throw new Error(`basePath must be a path like /admin/verk, got ${JSON.stringify(basePath)}`);
  return b;
}

async function handle(req: IncomingMessage, res: ServerResponse, s: Server): Promise<void> {
  securityHeaders(res);
  // Without credentials the dashboard is for this machine only, and a browser's Host header says
  // which name it asked for: a page on another site that makes its name resolve to 127.0.0.1 (DNS
  // rebinding) would otherwise be same-origin with the dashboard and could read pages and the
  // CSRF token, and act.
  if (s.auth.loopbackOnly && !loopbackHost(req.headers.host)) {
    return text(res, 403, 'this dashboard has no credentials (webAuth) and answers only to localhost, 127.0.0.1 or [::1]: set webAuth to serve it under another name');
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  let path = url.pathname;
  if (s.base) {
    if (path !== s.base && !path.startsWith(`${s.base}/`)) return text(res, 404, 'not found');
    path = path.slice(s.base.length) || '/';
  }
  const method = req.method ?? 'GET';
  const cookiePath = s.base || '/';
  if (path.startsWith('/assets/') && (method === 'GET' || method === 'HEAD')) {
    if (!serveAsset(path.slice('/assets/'.length), res)) text(res, 404, 'not found');
    return;
  }
  const csrf = csrfToken(req, res, cookiePath);
  if (path === '/login') return login(req, res, s, csrf, cookiePath);
  // A credential in a header is a guess when wrong: counted per address (src/web/login-limit.ts).
  // A session cookie is not counted: it is signed, and an expired one is no guess.
  const guess = !!req.headers.authorization && !s.auth.open;
  if (guess && lockedOut(req, res, s)) return;
  const principal = s.auth.authenticate(req);
  if (!principal) {
    if (guess) await failedSignIn(req, s);
    return challenge(req, res, s, csrf);
  }
  const page: PageCtx = { base: s.base, csrf, principal, canLogout: !!cookie(req, SESSION_COOKIE) && !s.auth.open, flash: readFlash(url.searchParams, csrf) };
  if (path === '/logout' && method === 'POST') {
    const form = await readForm(req);
    const problem = csrfProblem(req, form);
    if (problem) return forbidden(res, page, problem);
    setCookie(req, res, SESSION_COOKIE, '', { path: cookiePath, maxAgeS: 0 });
    return redirect(res, `${s.base}/login`);
  }
  if (path === '/live' && method === 'GET') return s.live.subscribe(res);
  if (method === 'GET' || method === 'HEAD') {
    const m = match(PAGES, path);
    if (!m) return sendPage(res, 404, layout(page, 'Not found', '', html`<p>No page here.</p>`));
    const r: Req = { req, res, url, params: m.params, page, admin: s.admin, settings: s.settings };
    const body = await m.run(r);
    if (body) sendPage(res, res.statusCode || 200, body);
    return;
  }
  if (method !== 'POST') {
    res.setHeader('Allow', 'GET, HEAD, POST');
    return text(res, 405, 'method not allowed');
  }
  const m = match(ACTIONS, path);
  if (!m) return text(res, 404, 'not found');
  let form: URLSearchParams;
  try {
    form = await readForm(req);
  } catch (err) {
    if (err instanceof BodyError) return text(res, err.status, err.message);
    throw err;
  }
  const problem = csrfProblem(req, form);
  if (problem) return forbidden(res, page, `CSRF check failed: ${problem}`);
  if (principal.role !== 'operator') {
    // A refused attempt is audited too (someone with the read-only credentials tried to act), at
    // most once per REFUSAL_AUDIT_MS per principal: the next entry says how many were not listed.
    const who = `${principal.role}\0${principal.who}`;
    const seen = s.refusals.get(who);
    const now = Date.now();
    if (seen && now - seen.at < REFUSAL_AUDIT_MS) seen.unlisted++;
    else {
      s.refusals.set(who, { at: now, unlisted: 0 });
      await appendAudit(
        s.admin,
        {
          at: new Date(now).toISOString(),
          who: principal.who,
          role: principal.role,
          ip: req.socket.remoteAddress ?? '',
          action: path,
          target: '',
          result: `refused: read-only${seen?.unlisted ? ` (${seen.unlisted} more refused since ${new Date(seen.at).toISOString()}, not listed)` : ''}`,
        },
        s.settings.auditLength,
      );
    }
    return forbidden(res, page, 'read-only access: actions need the operator credentials');
  }
  try {
    await runAction({ req, res, url, params: m.params, page, admin: s.admin, settings: s.settings }, form, m.run);
  } catch (err) {
    if (err instanceof NotFound) return text(res, 404, 'not found');
    throw err;
  }
}

/** A Host header naming this machine by a loopback name (or none: not a browser). */
export function loopbackHost(host: string | undefined): boolean {
  if (host === undefined || host === '') return true;
  return /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d+)?$/i.test(host);
}

/** A Redis that is unreachable or does not answer (not a reply error such as WRONGTYPE: that is a 500). */
function redisUnavailable(admin: AdminContext, err: unknown): boolean {
  if (admin.redis.status !== 'ready') return true;
  const e = err as { name?: string; message?: string };
  return (
    e?.name === 'MaxRetriesPerRequestError' ||
    /Command timed out|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|presumed dead/.test(e?.message ?? '')
  );
}

function unavailablePage(base: string, why: string): Html {
  return html`<!doctype html>
<html lang="en" data-base="${base}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Redis unavailable · verk</title>
<link rel="stylesheet" href="${base}/assets/verk-web.css"></head>
<body><main id="main"><h1>Redis is not answering</h1>
<p class="warning" role="alert">The dashboard could not read Redis: ${why}. Reload in a few seconds; the dashboard reconnects by itself.</p>
</main></body></html>
`;
}

function forbidden(res: ServerResponse, page: PageCtx, why: string): void {
  sendPage(res, 403, layout(page, 'Refused', '', html`<p class="warning" role="alert">${why}</p>`));
}
