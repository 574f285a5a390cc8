// The web dashboard in a real browser: Debian's chromium driven by playwright-core (executablePath,
// never a download), against three built `verk work` nodes on a private redis-server, one of them
// serving the dashboard (--web-port). Scenarios: kill -9 of another node → within nodeTtl +
// reaperInterval + 2 s its row on the Nodes page turns departed with "reaped by …" (the page
// reloads itself on the live stream) and the Recoveries page lists exactly the jids it held;
// SIGSTOP of another past its TTL, then SIGCONT → the fencing count on the Nodes page goes up,
// and the timeline shows the kill -9 node reaped and the resumed one fenced;
// every action clicked in the browser (pause, then Kill / Retry now / Delete on Retries, Resume,
// Quiet and Stop of a process; each lands in Redis and the audit list); a hidden tab
// closes its stream and reopens it when shown (visibilitychange); axe-core on
// every page with no serious or critical violation and no CSP violation; a screenshot of every
// page (docs/img/web-*.png with WEB_SCREENSHOTS=docs/img, else a temp dir; not VERK_…: the
// workers inherit the environment and refuse unknown VERK_ variables).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { Client } from '../../src/api/client.js';
import { signalGroup, startWorker } from '../helpers/cli.js';
import { usePrivateRedis, workArgs, workEnv } from '../helpers/e2e.js';
import { freePort, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { serve } from '../helpers/web-kit.js';
import { createWebHandler } from '../../src/web/handler.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const missing = (() => {
  try {
    execFileSync(CHROMIUM, ['--version'], { stdio: 'ignore', timeout: 20_000 });
    return undefined;
  } catch {
    return `chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM=/path/to/chrome)`;
  }
})();

const NODE_TTL_MS = 1500;
const REAPER_MS = 300;
const SHOTS = process.env.WEB_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'verk-web-shots-'));
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server: RedisServer;
let client: Client;
usePrivateRedis((s, c) => ([server, client] = [s, c]));

type Worker = ReturnType<typeof startWorker>;
const workers: Worker[] = [];
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  for (const w of workers.splice(0)) {
    signalGroup(w.pid!, 'SIGTERM');
    await w;
  }
});

function start(extra: string[]): Worker {
  const args = workArgs(server, ['--queues', 'default:3,quick:5', '--processes', '1', '--node-ttl', `${NODE_TTL_MS}ms`, '--reaper-interval', `${REAPER_MS}ms`, ...extra]);
  const w = startWorker(args, { env: workEnv(server) });
  workers.push(w);
  return w;
}

async function nodeOf(pid: number): Promise<string | undefined> {
  for (const id of await server.client.smembers('verk_nodes')) {
    if ((await server.client.hget(`verk:node:${id}:info`, 'supervisor_pid')) === String(pid)) return id;
  }
  return undefined;
}

/** axe-core's serious and critical violations on the page (injected by evaluate: the CSP forbids inline script tags). */
async function axeProblems(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const res = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    return (await axe.run()).violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  return res;
}

describe.skipIf(missing !== undefined)(`the web dashboard in chromium${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('shows a kill -9 node departed with its jids and a SIGSTOP node fenced, runs every action (pause, kill, retry, delete, resume, quiet, stop), passes axe, and takes screenshots', async () => {
    const port = await freePort();
    start(['--web-port', String(port), '--web-poll-interval', '300ms']);
    const others = [start([]), start([])];
    const base = `http://127.0.0.1:${port}`;
    // Nine jobs that run for a minute: each node holds three of them in progress.
    await client.enqueueBulk(Array.from({ length: 9 }, () => ({ class: 'Count', args: [{ sleepMs: 60_000 }] })));
    await client.enqueueBulk(Array.from({ length: 4 }, (_, i) => ({ class: 'Count', queue: 'mail', args: [{ to: `user${i}@example.com` }] })));
    const victim = others[1];
    const victimNode = await waitFor(() => nodeOf(victim.pid!), { what: "the victim's node", timeoutMs: 30_000 });
    const held = await waitFor(
      async () => {
        const list = await server.client.lrange(`inprogress:default:${victimNode}`, 0, -1).catch(() => []);
        return list.length === 3 ? list.map((p) => JSON.parse(p).jid as string).sort() : undefined;
      },
      { what: 'the victim to hold three jobs', timeoutMs: 30_000 },
    );
    await waitFor(async () => (await fetch(`${base}/nodes`).catch(() => undefined))?.ok, { what: 'the dashboard', timeoutMs: 30_000 });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    await page.goto(`${base}/nodes`);
    await page.locator(`tr[data-node="${victimNode}"] .status.alive`).waitFor({ timeout: 10_000 });
    // The stream is open (the page reloads its table on it).
    await page.locator('[data-live-state="on"]').waitFor({ timeout: 10_000 });

    signalGroup(victim.pid!, 'SIGKILL');
    const killedAt = Date.now();
    const budget = NODE_TTL_MS + REAPER_MS + 2000;
    await page.locator(`tr.departed[data-node="${victimNode}"]`).waitFor({ timeout: budget });
    const shownAfter = Date.now() - killedAt;
    const text = await page.locator(`tr.departed[data-node="${victimNode}"]`).textContent();
    expect(text).toMatch(/reaped by \S+-supervisor-\d+ at .* UTC, 3 jobs recovered/);
    console.log(`kill -9 → departed on the Nodes page after ${shownAfter} ms (budget ${budget} ms)`);
    await victim;

    await page.goto(`${base}/recoveries?node=${encodeURIComponent(victimNode)}`);
    const listed = (await page.locator('td.jids code.jid').allTextContents()).sort();
    expect(listed).toEqual(held);

    // SIGSTOP a node past its TTL: it is reaped while alive; after SIGCONT its late results for
    // the recovered jobs are refused, and the Nodes page's fencing count goes up on its own.
    const sleeper = others[0];
    const sleeperNode = await waitFor(() => nodeOf(sleeper.pid!), { what: "the paused node's id" });
    await page.goto(`${base}/nodes`);
    const fencedBefore = Number(await page.locator('#fencing b').textContent());
    signalGroup(sleeper.pid!, 'SIGSTOP');
    try {
      await page.locator(`tr.departed[data-node="${sleeperNode}"]`).waitFor({ timeout: 20_000 });
    } finally {
      signalGroup(sleeper.pid!, 'SIGCONT');
    }
    await page.waitForFunction((n) => Number(document.querySelector('#fencing b')?.textContent) > n, fencedBefore, { timeout: 20_000 });
    console.log(`SIGSTOP/SIGCONT: fencing rejections ${fencedBefore} → ${await page.locator('#fencing b').textContent()}`);
    // The timeline shows both: the killed node reaped by another supervisor, the resumed one fenced by its own.
    await page.goto(`${base}/nodes`);
    await page.locator(`tr[data-event="fenced"][data-event-node="${sleeperNode}"]`).waitFor({ timeout: 20_000 });
    expect(await page.locator(`tr[data-event="reaped"][data-event-node="${victimNode}"]`).count()).toBeGreaterThan(0);
    expect(await page.locator(`tr[data-event="joined"][data-event-node="${victimNode}"]`).count()).toBe(1);

    // One action end to end: pause `mail` from the Queues page.
    await page.goto(`${base}/queues`);
    await page.locator('tr[data-queue="mail"] button', { hasText: 'Pause' }).click();
    await page.waitForURL(/\/queues\?flash=/);
    await expect(page.locator('tr[data-queue="mail"]').textContent()).resolves.toMatch(/paused/);
    expect(await server.client.smembers('verk:paused')).toEqual(['mail']);
    const audit = JSON.parse((await server.client.lindex('verk:web:audit', 0)) ?? '{}');
    expect(audit).toMatchObject({ action: 'queue.pause', target: 'mail', result: 'paused', role: 'operator' });

    // Every other action, clicked as an operator would (their confirm dialogs accepted): on
    // Retries, Kill / Retry now / Delete of selected rows; Resume of the queue; Quiet of a process.
    page.on('dialog', (d) => void d.accept());
    const retryJob = (jid: string) =>
      JSON.stringify({ class: 'Flaky', args: [jid], queue: 'mail', jid, retry_count: 1, error_class: 'E', error_message: 'x', failed_at: 1795389000 });
    const [kj, rj, dj] = ['k', 'r', 'd'].map((c) => c.repeat(24));
    // Due in an hour: the workers' scheduler must not promote them meanwhile.
    const at = Number((await server.client.time())[0]) + 3600;
    await server.client.zadd('retry', at + 1, retryJob(kj), at + 2, retryJob(rj), at + 3, retryJob(dj));
    const onRetries = async (jid: string, score: number, button: string) => {
      await page.goto(`${base}/retries`);
      await page.locator(`input[name="key"][value^="${score}|${jid}|"]`).check();
      await page.locator('#bulk button', { hasText: button }).click();
      await page.waitForURL(/\/retries\?flash=/);
      console.log(`[web] ${button}: ${decodeURIComponent(new URL(page.url()).searchParams.get('flash') ?? '')}`);
    };
    await onRetries(kj, at + 1, 'Kill selected');
    expect(await server.client.zscore('dead', retryJob(kj))).not.toBeNull();
    await onRetries(rj, at + 2, 'Retry now (selected)');
    expect((await server.client.lrange('queue:mail', 0, -1)).some((j) => JSON.parse(j).jid === rj)).toBe(true);
    await onRetries(dj, at + 3, 'Delete selected');
    expect(await server.client.zcard('retry')).toBe(0);
    await page.goto(`${base}/queues`);
    await page.locator('tr[data-queue="mail"] button', { hasText: 'Resume' }).click();
    await page.waitForURL(/\/queues\?flash=/);
    expect(await server.client.smembers('verk:paused')).toEqual([]);
    const [identity] = (await server.client.smembers('processes')).sort();
    await page.goto(`${base}/processes`);
    await page.locator(`section.process[aria-label="${identity}"] button`, { hasText: 'Quiet' }).click();
    await page.waitForURL(/\/processes\?flash=/);
    await waitFor(async () => (await server.client.hget(identity, 'quiet')) === 'true', { what: 'the process quiet at its next beat', timeoutMs: 20_000 });
    const actions = (await server.client.lrange('verk:web:audit', 0, 5)).map((e) => JSON.parse(e).action);
    expect(actions).toEqual(['process.quiet', 'queue.resume', 'retry.delete', 'retry.retry', 'retry.kill', 'queue.pause']);

    // A dead job with a hostile payload for the Dead page and the job page.
    await server.client.zadd(
      'dead',
      1795389061,
      JSON.stringify({
        class: 'Mailer.Deliver',
        args: ['<script>alert(1)</script>', 42],
        queue: 'mail',
        jid: 'deadbeefdeadbeefdeadbeef',
        error_class: 'Net::ReadTimeout',
        error_message: 'execution expired',
        error_backtrace: ['mailer.rb:10:in `deliver`', 'worker.rb:3'],
        retry_count: 25,
        failed_at: 1795389000,
      }),
    );
    await server.client.zadd(
      'retry',
      Math.floor(Date.now() / 1000) + 600,
      JSON.stringify({
        class: 'Billing.Charge',
        args: [{ invoice: 1042, cents: 1999 }],
        queue: 'default',
        jid: 'cafebabecafebabecafebabe',
        error_class: 'Stripe::RateLimitError',
        error_message: 'Too many requests',
        retry_count: 2,
        failed_at: 1795389000,
        retried_at: 1795389300,
      }),
    );
    await client.enqueueIn(3_600_000, { class: 'Reports.Weekly', args: ['2026-W49', { format: 'pdf' }] });
    const pages: [string, string][] = [
      ['dashboard', '/'],
      ['nodes', '/nodes'],
      ['processes', '/processes'],
      ['queues', '/queues'],
      ['queue', '/queues/mail'],
      ['retries', '/retries'],
      ['scheduled', '/scheduled'],
      ['dead', '/dead'],
      ['job', '/jobs/dead/1795389061/deadbeefdeadbeefdeadbeef'],
      ['recoveries', '/recoveries'],
      ['stuck', '/stuck?older=1s'],
      ['audit', '/audit'],
      ['cron', '/cron'],
    ];
    fs.mkdirSync(SHOTS, { recursive: true });
    const problems: Record<string, string[]> = {};
    for (const [name, p] of pages) {
      await page.goto(base + p);
      if (name === 'dashboard') {
        // Some traffic for the live chart: a few quick jobs every 300 ms until it has 12 points.
        let n = 0;
        const traffic = setInterval(() => void client.enqueueBulk(Array.from({ length: 3 + (n++ % 7) * 2 }, () => ({ class: 'Count', queue: 'quick', args: [] }))), 300);
        try {
          await page.waitForFunction(() => (document.querySelector('#live-chart .line-processed')?.getAttribute('points') ?? '').split(' ').length >= 12, undefined, {
            timeout: 20_000,
          });
        } finally {
          clearInterval(traffic);
        }
      }
      const found = await axeProblems(page);
      if (found.length) problems[name] = found;
      await page.screenshot({ path: path.join(SHOTS, `web-${name}.png`), fullPage: name !== 'nodes' && name !== 'recoveries' });
    }
    expect(problems).toEqual({});

    // A hidden tab closes its stream and a shown one reopens it: counted on an in-process
    // handler on the same Redis (the one inside `verk work` cannot be asked).
    const handler = createWebHandler({ redisUrl: server.url, pollIntervalMs: 500 });
    const local = await serve(handler);
    try {
      const tab = await browser.newPage();
      await tab.goto(`${local.url}/`);
      await waitFor(() => handler.live.listeners === 1, { what: 'the tab to listen', timeoutMs: 10_000 });
      const setHidden = (hidden: boolean) =>
        tab.evaluate((h) => {
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
          document.dispatchEvent(new Event('visibilitychange'));
        }, hidden);
      await setHidden(true);
      await waitFor(() => handler.live.listeners === 0, { what: 'the hidden tab to close its stream', timeoutMs: 10_000 });
      expect(await tab.locator('.dot').getAttribute('data-live-state')).toBe('paused');
      await setHidden(false);
      await waitFor(() => handler.live.listeners === 1, { what: 'the shown tab to listen again', timeoutMs: 10_000 });
      await tab.close();
    } finally {
      await handler.close();
      await local.close();
    }
    // The last action: Stop a process (the one that was paused and resumed): it exits 0 by itself.
    const stopped = others[0];
    const target = await waitFor(
      async () => {
        for (const id of await server.client.smembers('processes')) if (JSON.parse((await server.client.hget(id, 'info')) ?? '{}').pid === stopped.pid) return id;
        return undefined;
      },
      { what: "the paused process's identity" },
    );
    await page.goto(`${base}/processes`);
    await page.locator(`section.process[aria-label="${target}"] button`, { hasText: 'Stop' }).click();
    await page.waitForURL(/\/processes\?flash=/);
    expect((await stopped).exitCode).toBe(0);
    expect(JSON.parse((await server.client.lindex('verk:web:audit', 0)) ?? '{}')).toMatchObject({ action: 'process.stop', target });
    expect(cspErrors).toEqual([]);
    expect(await page.evaluate(() => (globalThis as { alertCalled?: boolean }).alertCalled ?? false)).toBe(false);
    console.log(`screenshots in ${SHOTS}`);
  });
});
