// The web dashboard's request handler (createWebHandler) over real HTTP on a private
// redis-server: every page renders with the strict CSP and no inline code; a hostile payload
// (<script> in args, class, queue name and error) is escaped everywhere; actions need POST, the
// CSRF token and the operator role, and are written to verk:web:audit; token, basic and
// read-only auth; mounting under a basePath; paging and search; the live stream's Redis cost
// does not depend on the number of open tabs.
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { makeKeys } from '../../src/redis/keys.js';
import { parseCron } from '../../src/config/cron.js';
import { createWebHandler, type WebHandler } from '../../src/web/handler.js';
import { openAdmin } from '../../src/api/admin-context.js';
import { findJob, findJobConcurrently } from '../../src/api/find-job.js';
import { CSP } from '../../src/web/headers.js';
import { startWebServer } from '../../src/web/server.js';
import { createLogger } from '../../src/util/logger.js';
import { testConfig } from '../helpers/config.js';
import { validateValue } from '../../src/config/schema.js';
import { failedEntry, jid, scheduledEntry, zadd } from '../helpers/admin-kit.js';
import { fabricateNode, job } from '../helpers/fabricate.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { Browser, inlineCode, serve, useWebRig } from '../helpers/web-kit.js';

const keys = makeKeys('');
let server: RedisServer;
const { app, closeAfter } = useWebRig((s) => (server = s));

const HOSTILE = '<script>alert("pwned")</script>';
const PAGES = ['/', '/nodes', '/processes', '/queues', '/retries', '/scheduled', '/dead', '/recoveries', '/stuck', '/audit', '/cron'];

async function fabricateHostile(): Promise<{ deadJid: string; queueJid: string }> {
  const queueJid = jid();
  const deadJid = jid();
  const q = '<b>q</b>';
  await server.client.sadd(keys.queues, q);
  await server.client.lpush(keys.queue(q), job(queueJid, { queue: q, cls: '<img src=x onerror=alert(1)>', args: JSON.stringify([HOSTILE, { "'x'": '`y`' }]) }));
  await zadd(server.client, keys.dead, [[1795389100, failedEntry({ jid: deadJid, args: JSON.stringify([HOSTILE]), error: HOSTILE, class: '"><svg onload=alert(1)>' })]]);
  await zadd(server.client, keys.retry, [[1795389100, failedEntry({ args: JSON.stringify([HOSTILE]), error: HOSTILE })]]);
  await zadd(server.client, keys.schedule, [[1795389100, scheduledEntry({ args: JSON.stringify([HOSTILE]) })]]);
  await fabricateNode(server.client, keys, {
    id: 'n-<i>1</i>',
    ttlMs: 60_000,
    info: { host: HOSTILE, pid: 1, identity: 'h:1' },
    inprogress: { [q]: [job(jid(), { queue: q, args: JSON.stringify([HOSTILE]) })] },
  });
  await server.client.lpush(
    keys.recoveries,
    JSON.stringify({ at: 1795389000, by: HOSTILE, node: 'gone-<u>', moved: 1, dead: 0, queues: { [q]: 1 }, jids: [HOSTILE], dead_jids: {} }),
  );
  return { deadJid, queueJid };
}

describe('pages', () => {
  it('render with the strict CSP, no inline code, and every hostile value escaped', async () => {
    const { b } = await app();
    const { deadJid, queueJid } = await fabricateHostile();
    const score = '1795389100';
    const paths = [...PAGES, `/queues/${encodeURIComponent('<b>q</b>')}`, `/jobs/dead/${score}/${deadJid}`, `/job/${queueJid}`, `/dead?q=${encodeURIComponent('pwned')}`];
    for (const path of paths) {
      const r = await b.get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-security-policy'), path).toBe(CSP);
      expect(r.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
      expect(inlineCode(r.body), path).toEqual([]);
      expect(r.body, path).not.toContain('<script>alert');
      expect(r.body, path).not.toMatch(/<img src=x|<svg onload|<b>q<\/b>|<i>1<\/i>|gone-<u>/);
    }
    // The hostile text is shown, escaped, where it belongs.
    expect((await b.get('/dead')).body).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect((await b.get(`/queues/${encodeURIComponent('<b>q</b>')}`)).body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(CSP).toContain("default-src 'self'");
    expect(CSP).not.toContain('unsafe-inline');
  });

  it('pages a queue in fetch order and searches dead by args substring', async () => {
    const { b } = await app();
    const jids = Array.from({ length: 120 }, (_, i) => `job${String(i).padStart(3, '0')}`);
    // LPUSH in order: job000 is fetched first (position 0).
    for (const j of jids) await server.client.lpush(keys.queue('default'), job(j));
    const page2 = (await b.get('/queues/default?offset=50')).body;
    const shown = [...page2.matchAll(/<code>(job\d+)<\/code>/g)].map((m) => m[1]);
    expect(shown).toEqual(jids.slice(50, 100));
    await zadd(
      server.client,
      keys.dead,
      Array.from(
        { length: 300 },
        (_, i) => [1795389000 + i, failedEntry({ jid: `dead${i}`, args: JSON.stringify([i === 7 ? 'needle-XYZ' : `hay${i}`]) })] as [number, string],
      ),
    );
    const found = (await b.get('/dead?q=NEEDLE-xyz')).body;
    expect([...found.matchAll(/<code>(dead\d+)<\/code>/g)].map((m) => m[1])).toEqual(['dead7']);
    const byClass = (await b.get('/dead?q=FailingJob')).body;
    expect(byClass).toContain('50 found (first page shown)');
  });

  it('shows live, dead-awaiting-reaper and departed nodes with who reaped them', async () => {
    const { b } = await app();
    await fabricateNode(server.client, keys, {
      id: 'alive-1',
      ttlMs: 20_000,
      info: { ttl_ms: 20_000, host: 'h', pid: 5 },
      inprogress: { default: [job('a1'), job('a2')] },
    });
    await fabricateNode(server.client, keys, { id: 'dead-1', info: { host: 'h' } });
    await server.client.lpush(
      keys.recoveries,
      JSON.stringify({ at: 1795389000, by: 'box-supervisor-9', node: 'gone-1', moved: 2, dead: 0, queues: { default: 2 }, jids: ['r1', 'r2'], dead_jids: {} }),
    );
    const body = (await b.get('/nodes')).body;
    expect(body).toMatch(/data-node="alive-1".*?alive.*?<td class="num">2<\/td>/s);
    expect(body).toMatch(/data-node="dead-1".*?dead \(awaiting the reaper\)/s);
    expect(body).toMatch(/data-node="gone-1".*?departed.*?reaped by <code>box-supervisor-9<\/code> at 2026-[\d-]+ [\d:]+ UTC, 2 jobs recovered/s);
    const rec = (await b.get('/recoveries?node=gone-1')).body;
    expect(rec).toContain('<code class="jid">r1</code>');
    expect(rec).toContain('<code class="jid">r2</code>');
  });
});

describe('the job page', () => {
  it('finds a jid everywhere as `verk show` does (findJobConcurrently = findJob)', async () => {
    const { b, handler } = await app();
    const j = jid();
    await server.client.lpush(keys.queue('a'), job(j, { queue: 'a' }), job(jid(), { queue: 'a' }));
    await fabricateNode(server.client, keys, { id: 'n1', ttlMs: 60_000, inprogress: { b: [job(j, { queue: 'b' })] } });
    await zadd(server.client, keys.retry, [[1795389001, failedEntry({ jid: j })]]);
    await zadd(
      server.client,
      keys.dead,
      Array.from({ length: 12_000 }, (_, i) => [1795389000 + i, failedEntry({ jid: i === 11_000 ? j : jid() })] as [number, string]),
    );
    const admin = openAdmin({ redisUrl: server.url });
    closeAfter(admin);
    const [slow, fast] = await Promise.all([findJob(admin, j), findJobConcurrently(admin, j)]);
    expect(fast).toEqual(slow);
    expect(fast.matches.map((m) => m.where)).toEqual(['queue', 'in_progress', 'retry', 'dead']);
    const page = (await b.get(`/job/${j}`)).body;
    expect(page).toContain('4 copies found');
    expect(page).toMatch(/in progress on node <code>n1<\/code>/);
    expect(handler.live.listeners).toBe(0);
  });
});

describe('actions', () => {
  it('need POST with the CSRF token and a same-site Origin; each is audited', async () => {
    const { b } = await app();
    await server.client.sadd(keys.queues, 'mail');
    await b.get('/queues');
    expect(b.jar.get('verk_csrf')).toMatch(/^[\w-]{32}$/);
    expect((await b.post('/queues/mail/pause', {}, { csrf: null })).status).toBe(403);
    expect((await b.post('/queues/mail/pause', {}, { csrf: 'x'.repeat(32) })).status).toBe(403);
    expect((await b.post('/queues/mail/pause', {}, { headers: { Origin: 'https://evil.example' } })).status).toBe(403);
    expect((await b.get('/queues/mail/pause')).status).toBe(404);
    expect(await server.client.smembers(keys.paused)).toEqual([]);
    expect(await server.client.llen(keys.webAudit)).toBe(0);

    const ok = await b.post('/queues/mail/pause', {});
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toMatch(/^\/queues\?flash=queue\.pause/);
    expect(await server.client.smembers(keys.paused)).toEqual(['mail']);
    expect((await b.get('/queues')).body).toMatch(/data-queue="mail".*?paused/s);
    const [entry] = (await server.client.lrange(keys.webAudit, 0, -1)).map((e) => JSON.parse(e));
    expect(entry).toMatchObject({ who: 'anonymous', role: 'operator', action: 'queue.pause', target: 'mail', result: 'paused' });
  });

  it('retry now and delete dead entries by selection, kill a retry, retry all; the audit list stays bounded', async () => {
    const { b } = await app({ auditLength: 3 });
    const entries: [number, string][] = [1, 2, 3].map((i) => [1795389000 + i, failedEntry({ jid: `d${i}`, queue: 'work' })]);
    await zadd(server.client, keys.dead, entries);
    await b.get('/dead');
    expect((await b.post('/dead/bulk', { do: 'retry', key: ['1795389001|d1', '1795389002|d2'] })).status).toBe(303);
    expect(await server.client.zcard(keys.dead)).toBe(1);
    expect((await server.client.lrange(keys.queue('work'), 0, -1)).map((p) => JSON.parse(p).jid).sort()).toEqual(['d1', 'd2']);
    expect((await b.post('/dead/bulk', { do: 'delete', key: '1795389003|d3' })).status).toBe(303);
    expect(await server.client.zcard(keys.dead)).toBe(0);
    // Kill: a retry entry goes to Dead as it is; Dead has no Kill (404).
    const doomed = failedEntry({ jid: 'k1', queue: 'work' });
    await zadd(server.client, keys.retry, [[1795389010, doomed]]);
    const killed = await b.post('/retries/bulk', { do: 'kill', key: '1795389010|k1' });
    expect(killed.status).toBe(303);
    expect(new URL(killed.headers.get('location') ?? '', 'http://x').searchParams.get('flash')).toBe('retry.kill k1: 1 of 1 moved to Dead');
    expect(await server.client.zrange(keys.dead, 0, -1)).toEqual([doomed]);
    expect(await server.client.zcard(keys.retry)).toBe(0);
    expect((await b.post('/dead/bulk', { do: 'kill', key: '1795389010|k1' })).status).toBe(404);
    expect(await server.client.zrange(keys.dead, 0, -1)).toEqual([doomed]);
    // Retry all (bounded per click) on retries: every entry goes back to its queue.
    await zadd(
      server.client,
      keys.retry,
      [4, 5].map((i) => [1795389000 + i, failedEntry({ jid: `r${i}`, queue: 'work' })] as [number, string]),
    );
    const all = await b.post('/retries/retry-all', {});
    expect(new URL(all.headers.get('location') ?? '', 'http://x').searchParams.get('flash')).toBe('retry.retry-all retry: 2 of 2 moved to their queues');
    expect(await server.client.zcard(keys.retry)).toBe(0);
    expect(await server.client.llen(keys.queue('work'))).toBe(4);
    await b.post('/queues/work/pause', {});
    const audit = (await server.client.lrange(keys.webAudit, 0, -1)).map((e) => JSON.parse(e));
    expect(audit).toHaveLength(3);
    expect(audit.map((a) => a.action)).toEqual(['queue.pause', 'retry.retry-all', 'retry.kill']);
    expect(audit[2]).toMatchObject({ action: 'retry.kill', target: 'k1', result: '1 of 1 moved to Dead' });
  });
});

describe('authentication', () => {
  const OP = 'token:operator-secret-0123456789';
  const RO = 'token:readonly-secret-0123456789';

  it('token: 401 without it, Bearer works, the login form sets a session; read-only cannot act', async () => {
    const { b, web } = await app({ auth: OP, readAuth: RO });
    expect((await new Browser(web.url).request('GET', '/queues', undefined, {})).status).toBe(401);
    const redirected = await b.get('/queues');
    expect([redirected.status, redirected.headers.get('location')]).toEqual([303, '/login']);
    expect((await new Browser(web.url, { Authorization: 'Bearer operator-secret-0123456789' }).get('/queues')).status).toBe(200);
    expect((await new Browser(web.url, { Authorization: 'Bearer wrong' }).request('GET', '/queues', undefined, {})).status).toBe(401);

    await b.get('/login');
    expect((await b.post('/login', { token: 'nope' })).status).toBe(401);
    expect((await b.post('/login', { token: 'readonly-secret-0123456789' })).status).toBe(303);
    expect(b.jar.get('verk_session')).toMatch(/^read\./);
    const page = await b.get('/queues');
    expect(page.status).toBe(200);
    expect(page.body).toContain('read-only');
    await server.client.sadd(keys.queues, 'mail');
    expect((await b.get('/queues')).body).not.toContain('/queues/mail/pause');
    const refused = await b.post('/queues/mail/pause', {});
    expect(refused.status).toBe(403);
    expect(await server.client.smembers(keys.paused)).toEqual([]);
    expect(JSON.parse((await server.client.lindex(keys.webAudit, 0)) ?? '{}')).toMatchObject({ role: 'read', result: 'refused: read-only' });
    // A forged session cookie is no session.
    const forged = new Browser(web.url);
    forged.jar.set('verk_session', b.jar.get('verk_session')!.replace(/^read/, 'operator'));
    expect((await forged.get('/queues')).status).toBe(303);
  });

  it('basic: a challenge, then the right user and password', async () => {
    const { web } = await app({ auth: 'basic:admin:s3cret-pass' });
    const none = await new Browser(web.url).get('/');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic realm="verk"');
    const basic = (u: string, p: string) => new Browser(web.url, { Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    expect((await basic('admin', 'wrong').get('/')).status).toBe(401);
    expect((await basic('admin', 's3cret-pass').get('/')).status).toBe(200);
  });

  it('an address that keeps guessing is locked out (429 + Retry-After) for every way in, the right token too; audited once; no credential is no guess', async () => {
    const { b, web } = await app({ auth: OP });
    const signedIn = new Browser(web.url);
    await signedIn.get('/login');
    expect((await signedIn.post('/login', { token: 'operator-secret-0123456789' })).status).toBe(303);
    const bearer = (token: string) => new Browser(web.url, { Authorization: `Bearer ${token}` }).request('GET', '/queues', undefined, {});
    // Requests without a credential are not counted.
    for (let i = 0; i < 15; i++) expect((await new Browser(web.url).request('GET', '/queues', undefined, {})).status).toBe(401);
    expect((await bearer('operator-secret-0123456789')).status).toBe(200);
    for (let i = 0; i < 9; i++) expect((await bearer(`guess-${i}`)).status).toBe(401);
    await b.get('/login');
    // The 10th failure (on the form) uses up the tries.
    expect((await b.post('/login', { token: 'guess-9' })).status).toBe(401);
    const locked = await bearer('operator-secret-0123456789');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(locked.body).toContain('too many failed sign-ins');
    const form = await b.post('/login', { token: 'operator-secret-0123456789' });
    expect(form.status).toBe(429);
    expect(form.body).toContain('Too many failed sign-ins');
    const audit = (await server.client.lrange('verk:web:audit', 0, -1)).map((l) => JSON.parse(l));
    expect(audit.filter((e) => e.action === 'sign-in')).toEqual([
      expect.objectContaining({ who: 'unknown', role: 'none', ip: '127.0.0.1', result: expect.stringContaining('refused: 10 failed sign-ins') }),
    ]);
    expect(JSON.stringify(audit)).not.toContain('guess-');
    // A session signed in before the lock-out goes on working (a cookie is signed: no guess).
    expect((await signedIn.get('/queues')).status).toBe(200);
  });

  it('secrets never reach the log, and a bad credential spec is refused without echoing it', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) });
    const config = testConfig({ redisUrl: server.url, webAuth: 'token:very-secret-token-value-42', webHost: '127.0.0.1' });
    const web = await startWebServer(config, 0, log);
    closeAfter(web);
    const b = new Browser(`http://127.0.0.1:${web.port}`);
    await b.get('/login');
    await b.post('/login', { token: 'very-secret-token-value-42' });
    await b.post('/login', { token: 'wrong-guess-value' });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain('very-secret');
    expect(lines.join('\n')).not.toContain('wrong-guess');
    expect(() => validateValue('webAuth', 'tokn:abc-secret', '--auth')).toThrow(/--auth: `webAuth` must be token:<secret>/);
    expect(() => validateValue('webAuth', 'tokn:abc-secret', '--auth')).not.toThrow(/abc-secret/);
    expect(() => validateValue('webAuth', 'token:short', '--auth')).toThrow(/at least 16 characters/);
    await expect(startWebServer(testConfig({ redisUrl: server.url, webHost: '0.0.0.0' }), 0)).rejects.toThrow(/without credentials/);
  });
});

describe('mounting', () => {
  it('under a basePath: links, forms, assets and cookies respect it', async () => {
    const handler = createWebHandler({ redisUrl: server.url, basePath: '/admin/verk/' });
    const parent = await serve((req, res) => {
      if (req.url?.startsWith('/admin/verk')) return handler(req, res);
      res.end('parent app');
    });
    closeAfter(handler, parent);
    await server.client.sadd(keys.queues, 'mail');
    const b = new Browser(parent.url);
    const page = await b.get('/admin/verk/queues');
    expect(page.status).toBe(200);
    const links = [...page.body.matchAll(/(?:href|action|src)="([^"]*)"/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(15);
    expect(links.filter((l) => !l.startsWith('/admin/verk/'))).toEqual([]);
    expect(page.headers.get('set-cookie')).toContain('Path=/admin/verk;');
    expect((await b.get('/admin/verk/assets/verk-web.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await b.post('/admin/verk/queues/mail/pause', {})).headers.get('location')).toMatch(/^\/admin\/verk\/queues\?/);
    expect((await b.get('/other')).body).toBe('parent app');
  });
});

describe('live updates', () => {
  async function commandCalls(): Promise<number> {
    const info = await server.client.info('commandstats');
    return [...info.matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  }

  /** Opens n SSE streams and waits for each to be subscribed. */
  async function streams(url: string, n: number, handler: WebHandler): Promise<{ frames: string[][]; close(): void }> {
    const frames: string[][] = [];
    const reqs: http.ClientRequest[] = [];
    for (let i = 0; i < n; i++) {
      const got: string[] = [];
      frames.push(got);
      const req = http.get(`${url}/live`, (res) =>
        res.on('data', (c: Buffer) =>
          got.push(
            ...c
              .toString()
              .split('\n\n')
              .filter((f) => f.startsWith('data: ')),
          ),
        ),
      );
      reqs.push(req);
    }
    const deadline = Date.now() + 20_000;
    while (handler.live.listeners < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(handler.live.listeners).toBe(n);
    return { frames, close: () => reqs.forEach((r) => r.destroy()) };
  }

  it('one poll per server: 1 and 20 open tabs cost the same Redis commands per poll', async () => {
    // A long interval: the test drives the polls itself with tick().
    const { handler, web } = await app({ pollIntervalMs: 600_000 });
    const measure = async (n: number) => {
      const s = await streams(web.url, n, handler);
      await handler.live.tick(); // first round: connection set-up out of the way
      const before = await commandCalls();
      for (let i = 0; i < 5; i++) await handler.live.tick();
      const after = await commandCalls();
      const deadline = Date.now() + 20_000;
      while (s.frames.some((f) => f.length < 6) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      s.close();
      while (handler.live.listeners > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return { calls: after - before - 1, frames: s.frames.map((f) => f.length) };
    };
    const one = await measure(1);
    const twenty = await measure(20);
    // The first INFO is counted in the second one's figures (subtracted above).
    expect(one.calls).toBe(5 * 9);
    expect(twenty.calls).toBe(one.calls);
    expect(twenty.frames.every((n) => n >= 6)).toBe(true);
    // With no tab open a round reads nothing.
    const before = await commandCalls();
    await handler.live.tick();
    expect((await commandCalls()) - before - 1).toBe(0);
  });
});

describe('cron page', () => {
  it('lists the entries with their next tick; Run now enqueues and records it, Pause and Resume act cluster-wide; all audited', async () => {
    const cron = parseCron({ nightly: { class: 'Reports.Nightly', schedule: '0 3 * * *', tz: 'Europe/Berlin', queue: 'reports' } }, (why) => {
      throw new Error(why);
    });
    const { b } = await app({ cron });
    const list = await b.get('/cron');
    expect(list.status).toBe(200);
    expect(list.body).toMatch(/data-entry="nightly".*<code>0 3 \* \* \*<\/code>.*Europe\/Berlin.*Reports\.Nightly.*reports.*active/s);
    expect(list.body).toMatch(/\d{4}-\d\d-\d\d 0[12]:00:00 UTC/); // 03:00 in Berlin is 01:00 or 02:00 UTC

    expect((await b.post('/cron/nightly/pause', {})).status).toBe(303);
    expect(await server.client.sismember(keys.cronPaused, 'nightly')).toBe(1);
    expect((await b.get('/cron')).body).toMatch(/data-entry="nightly".*paused/s);
    expect((await b.post('/cron/nightly/resume', {})).status).toBe(303);
    expect(await server.client.sismember(keys.cronPaused, 'nightly')).toBe(0);

    const run = await b.post('/cron/nightly/run', {});
    expect(run.status).toBe(303);
    const [queued] = (await server.client.lrange(keys.queue('reports'), 0, -1)).map((j) => JSON.parse(j));
    expect(queued).toMatchObject({ class: 'Reports.Nightly', queue: 'reports' });
    const hist = await b.get('/cron/nightly');
    expect(hist.body).toContain(queued.jid);
    expect(hist.body).toContain('web:anonymous');
    // No Run for an entry this server's config does not declare.
    expect((await b.post('/cron/unknown/run', {})).status).toBe(404);
    const audit = (await server.client.lrange(keys.webAudit, 0, -1)).map((e) => JSON.parse(e).action);
    expect(audit.slice(0, 3)).toEqual(['cron.run', 'cron.resume', 'cron.pause']);
  });
});

describe('attempt history', () => {
  it("a job's page lists the failed attempts verk kept (escaped), in the set view and the find-anywhere view", async () => {
    const { b } = await app();
    const attempts = [
      { at: 1795389001, error_class: 'Net::ReadTimeout', error_message: 'first' },
      { at: 1795389100, error_class: 'ArgumentError', error_message: HOSTILE },
    ];
    await zadd(server.client, keys.dead, [[1795389100, failedEntry({ jid: 'att1', extra: `"verk_attempts":${JSON.stringify(attempts)}` })]]);
    for (const path of ['/jobs/dead/1795389100/att1', '/job/att1']) {
      const page = await b.get(path);
      expect(page.status).toBe(200);
      expect(page.body).toContain('Attempts (2, the last 10 kept)');
      expect(page.body).toMatch(/Net::ReadTimeout<\/b>: first/);
      expect(page.body).not.toContain(HOSTILE);
      expect(page.body).toContain('&lt;script&gt;');
    }
  });
});
