// Drives the web dashboard's handler over real HTTP for tests: serves a createWebHandler (or a
// parent app mounting it) on a free port, and a small client with a cookie jar that reads the
// CSRF token from it, posts forms and never follows redirects (tests look at them).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createWebHandler, type WebHandler } from '../../src/web/handler.js';
import { startRedis, type RedisServer } from './redis-server.js';

export interface Served {
  url: string;
  close(): Promise<void>;
}

export async function serve(listener: http.RequestListener): Promise<Served> {
  const server = http.createServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: string;
}

export class Browser {
  readonly jar = new Map<string, string>();

  constructor(
    readonly base: string,
    readonly headers: Record<string, string> = {},
  ) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.request('GET', path, undefined, { Accept: 'text/html', ...headers });
  }

  /** POSTs a form; `_csrf` is added from the jar unless the form has one (pass null to leave it out). */
  async post(
    path: string,
    form: Record<string, string | string[]> | [string, string][],
    o: { csrf?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const body = new URLSearchParams();
    const pairs = Array.isArray(form)
      ? form
      : Object.entries(form).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v] as [string, string]]));
    for (const [k, v] of pairs) body.append(k, v);
    const csrf = o.csrf === undefined ? this.jar.get('verk_csrf') : o.csrf;
    if (csrf !== null && csrf !== undefined && !body.has('_csrf')) body.append('_csrf', csrf);
    return this.request('POST', path, body.toString(), { 'Content-Type': 'application/x-www-form-urlencoded', ...o.headers });
  }

  async request(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<Reply> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(this.base + path, { method, body, redirect: 'manual', headers: { ...this.headers, ...(cookie ? { Cookie: cookie } : {}), ...headers } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const v = pair.slice(i + 1);
      if (/Max-Age=0/.test(c)) this.jar.delete(pair.slice(0, i));
      else this.jar.set(pair.slice(0, i), v);
    }
    return { status: res.status, headers: res.headers, body: await res.text() };
  }
}

/** Markup that would run script or set style inline (what the CSP forbids and escaping prevents). */
export function inlineCode(body: string): string[] {
  const found: string[] = [];
  for (const m of body.matchAll(/<script\b[^>]*>/gi)) if (!/\bsrc="/.test(m[0])) found.push(m[0]);
  for (const m of body.matchAll(/<[a-z][^>]*\s(on[a-z]+|style)\s*=/gi)) found.push(m[0]);
  for (const m of body.matchAll(/javascript:/gi)) found.push(m[0]);
  return found;
}

export interface WebApp {
  handler: WebHandler;
  web: Served;
  b: Browser;
}

/**
 * The rig of a web test file: a private redis-server (flushed before each test, stopped after the
 * file) handed to `use`; `app(opts)`: a createWebHandler on it, served on a free port; and
 * `closeAfter(...)` for anything else a test opens. All of it is closed after the file, newest
 * first, before the server stops.
 */
export function useWebRig(use: (server: RedisServer) => void): {
  app: (opts?: Parameters<typeof createWebHandler>[0]) => Promise<WebApp>;
  closeAfter: (...o: { close(): Promise<void> }[]) => void;
} {
  let server: RedisServer;
  const open: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    server = await startRedis();
    use(server);
  });
  afterAll(async () => {
    for (const o of open.reverse()) await o.close();
    await server?.stop();
  });
  beforeEach(async () => {
    await server.client.flushall();
  });
  const closeAfter = (...o: { close(): Promise<void> }[]) => void open.push(...o);
  return {
    closeAfter,
    app: async (opts = {}) => {
      const handler = createWebHandler({ redisUrl: server.url, ...opts });
      const web = await serve(handler);
      closeAfter(handler, web);
      return { handler, web, b: new Browser(web.url) };
    },
  };
}
