#!/usr/bin/env node
// Takes the screenshots of docs/dashboard.md: a real Sidekiq Web (Debian's ruby-sidekiq, served by
// rackup with examples/sidekiq-web/config.ru) reading a private redis-server on which the built
// `verk work` runs jobs: running ones (with args, one huge), retries, dead, scheduled, a backlog,
// and daily counters (past days' from `verk work` runs under libfaketime, when it is installed).
// Headless Debian chromium is driven by playwright-core (no browser download). Each page is
// checked for verk's data before it is saved; any missing piece fails the script.
//
//   apt-get install -y ruby-sidekiq ruby-webrick chromium faketime pngquant   # the last two optional
//   npm run build && node scripts/dashboard-screenshots.mjs [--out docs/img]
//
// Debian's ruby-sidekiq ships without Sidekiq Web's JavaScript (its +dfsg source drops the bundled
// jQuery/Rickshaw), so the Dashboard's graphs stay empty there. The History screenshot therefore
// draws the numbers Sidekiq Web itself put in the page (#history's data-processed/data-failed,
// read through Sidekiq::Stats::History) as a plain bar chart, and says so in the image.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const VERK = path.join(REPO, 'bin', 'verk.js');
const CONFIG_RU = path.join(REPO, 'examples', 'sidekiq-web', 'config.ru');
const OUT = path.resolve(process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : path.join(REPO, 'docs', 'img'));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FAKETIME_LIB = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((f) => fs.existsSync(f));
const WIDTH = 1200;
const DEADLINE_MS = 60_000;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-dashboard-'));
const children = [];
const log = (...a) => console.log('[dashboard]', ...a);

function need(what, check, install) {
  try {
    check();
  } catch {
    throw new Error(`${what} is missing: ${install}`);
  }
}

function prerequisites() {
  const quiet = { stdio: 'ignore', timeout: 20_000 };
  need('redis-server', () => execFileSync('redis-server', ['--version'], quiet), 'apt-get install -y redis-server');
  need(
    'Ruby with sidekiq/web and webrick',
    () => execFileSync('ruby', ['-e', 'require "sidekiq/web"; require "webrick"'], quiet),
    'apt-get install -y ruby-sidekiq ruby-webrick',
  );
  need('rackup', () => execFileSync('rackup', ['--version'], quiet), 'apt-get install -y ruby-rack');
  need(`chromium (${CHROMIUM})`, () => execFileSync(CHROMIUM, ['--version'], quiet), 'apt-get install -y chromium (or set CHROMIUM=/path/to/chrome)');
  need('dist/ (the built CLI)', () => fs.accessSync(path.join(REPO, 'dist', 'cli', 'main.js')), 'npm run build');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a child in its own process group (so its workers are stopped with it) and remembers it. */
function start(name, cmd, args, env = {}) {
  const logFile = fs.openSync(path.join(tmp, `${name}.log`), 'a');
  const child = spawn(cmd, args, { cwd: tmp, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', logFile, logFile], detached: true });
  child.exited = new Promise((r) => child.once('exit', r));
  child.label = name;
  children.push(child);
  return child;
}

async function stop(child, signal = 'SIGTERM') {
  try {
    process.kill(-child.pid, signal);
  } catch {
    return; // gone
  }
  const killer = setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }, 15_000);
  await child.exited;
  clearTimeout(killer);
}

async function waitFor(what, check, timeoutMs = DEADLINE_MS) {
  const until = Date.now() + timeoutMs;
  let delay = 50;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (logs in ${tmp})`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
}

function verk(args, redisUrl) {
  return execFileSync('node', [VERK, ...args, '--redis-url', redisUrl], { cwd: tmp, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 30_000 });
}

const HANDLERS = {
  // Runs until stopped: what the Busy page shows.
  'Mailers/Welcome':
    'export async function perform(args, ctx) { await new Promise((r) => { const t = setTimeout(r, 600_000); ctx.signal.addEventListener("abort", () => { clearTimeout(t); r(); }); }); }',
  'Reports/Daily': 'export function perform() {}',
  'Reports/Flaky': 'export const options = { retry: false };\nexport function perform() { throw new Error("upstream timeout"); }',
  // Fails; its next try is an hour away, so it sits in Retries.
  'Billing/Charge':
    'export const options = { retry: 5, backoff: () => 3600 };\nexport function perform(args) { const e = new Error("card declined for invoice " + args[0]?.invoice); e.name = "CardError"; throw e; }',
  // Fails with no retries: straight to Dead.
  'Import/Csv': 'export const options = { retry: 0 };\nexport function perform(args) { throw new RangeError("row " + args[1]?.row + " has 3 columns, expected 5"); }',
  'Newsletter/Send': 'export function perform() {}',
};

function writeHandlers() {
  const dir = path.join(tmp, 'jobs');
  for (const [name, body] of Object.entries(HANDLERS)) {
    fs.mkdirSync(path.join(dir, path.dirname(name)), { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.mjs`), `${body}\n`);
  }
  return dir;
}

const day = (ms) => new Date(ms).toISOString().slice(0, 10);

/** Past days' counters, written by real `verk work` runs whose wall clock libfaketime sets back. */
async function pastDays(client, redisUrl, jobs) {
  if (!FAKETIME_LIB) {
    log('libfaketime not found (apt-get install faketime): the History shows today only');
    return [];
  }
  const { redis } = client;
  const days = [];
  for (const [back, ok, bad] of [
    [5, 38, 2],
    [4, 55, 6],
    [3, 21, 0],
    [2, 64, 9],
    [1, 47, 3],
  ]) {
    const date = day(Date.now() - back * 86_400_000);
    await client.enqueueBulk([
      ...Array.from({ length: ok }, (_, n) => ({ class: 'Reports.Daily', args: [{ day: date, n }], queue: 'history' })),
      ...Array.from({ length: bad }, (_, n) => ({ class: 'Reports.Flaky', args: [{ day: date, n }], queue: 'history' })),
    ]);
    const w = start(
      `history-${back}`,
      'node',
      [VERK, 'work', '--redis-url', redisUrl, '--handlers', jobs, '--queues', 'history:8', '-p', '1', '--heartbeat-interval', '500ms', '--log-format', 'json'],
      {
        LD_PRELOAD: FAKETIME_LIB,
        FAKETIME: `-${back}d`,
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      },
    );
    await waitFor(
      `stat:processed:${date} = ${ok + bad}`,
      async () => Number(await redis.get(`stat:processed:${date}`)) === ok + bad && Number((await redis.get(`stat:failed:${date}`)) ?? 0) === bad,
    );
    await stop(w);
    days.push({ date, processed: ok + bad, failed: bad });
  }
  await redis.srem('queues', 'history');
  return days;
}

async function seed(client, redisUrl) {
  await client.enqueueBulk(Array.from({ length: 40 }, (_, shard) => ({ class: 'Reports.Daily', args: [{ report: 'sales', shard }] })));
  for (const invoice of [1042, 1043, 1044, 1045]) await client.enqueue({ class: 'Billing.Charge', args: [{ invoice, amount_cents: 129900 }] });
  // The CLI, as an operator would type it.
  for (const row of [17, 230, 4096]) verk(['enqueue', 'Import.Csv', '"s3://uploads/customers-2026-11.csv"', JSON.stringify({ row })], redisUrl);
  for (const [list, inMs] of [
    ['weekly', 2 * 3600_000],
    ['product-news', 86_400_000],
    ['digest', 1800_000],
  ])
    await client.enqueueIn(inMs, { class: 'Newsletter.Send', args: [{ list }] });
  // A backlog nobody works on.
  await client.enqueueBulk(Array.from({ length: 12 }, (_, m) => ({ class: 'Reports.Daily', args: [{ report: 'archive', month: m + 1 }], queue: 'low' })));
  // Running jobs for the Busy page: a big integer (kept exactly), a huge payload (truncated).
  await client.enqueue({ class: 'Mailers.Welcome', argsJson: '[{"user_id":12345678901234567890,"locale":"fr"}]', queue: 'mail' });
  await client.enqueue({ class: 'Mailers.Welcome', args: [{ user_id: 42, locale: 'en' }, 'trial'], queue: 'mail' });
  await client.enqueue({ class: 'Mailers.Welcome', args: [{ user_id: 7, html: `<p>${'Welcome aboard! '.repeat(12_000)}</p>` }], queue: 'mail' });
  for (const id of [101, 102, 103]) await client.enqueue({ class: 'Mailers.Welcome', args: [{ user_id: id, locale: 'de' }], queue: 'mail' });
}

/** Draws #history's data (put there by Sidekiq Web) as bars, since Debian's package has no chart JS. */
function drawHistory() {
  const el = document.querySelector('#history');
  const processed = JSON.parse(el.dataset.processed);
  const failed = JSON.parse(el.dataset.failed);
  const dates = Object.keys(processed).sort().slice(-10);
  const max = Math.max(1, ...dates.map((d) => processed[d]));
  const bar = (d) => {
    const p = processed[d];
    const f = failed[d] ?? 0;
    const h = (n) => Math.round((n / max) * 160);
    return `<div style="display:inline-block;width:88px;margin:0 6px;text-align:center;vertical-align:bottom;font:12px sans-serif">
      <div style="height:170px;display:flex;align-items:flex-end;justify-content:center;gap:4px">
        <div title="processed" style="width:30px;height:${h(p)}px;background:#b1003e"></div>
        <div title="failed" style="width:30px;height:${h(f)}px;background:#555"></div></div>
      <div><b>${p}</b> / ${f}</div><div style="color:#666">${d.slice(5)}</div></div>`;
  };
  el.innerHTML = `<div style="padding:8px 0">${dates.map(bar).join('')}</div>
    <p style="font:12px sans-serif;color:#666">processed (red) / failed (grey) per UTC day: Sidekiq Web's own #history data
    (Sidekiq::Stats::History over stat:processed:&lt;day&gt;, stat:failed:&lt;day&gt;), drawn by scripts/dashboard-screenshots.mjs
    because Debian's ruby-sidekiq ships without the chart JavaScript.</p>`;
  return { processed, failed };
}

/** Shrinks a screenshot with pngquant when it is installed (apt-get install pngquant); else keeps it. */
function shrink(file) {
  try {
    execFileSync('pngquant', ['--quality', '60-90', '--speed', '1', '--force', '--output', file, file], { stdio: 'ignore', timeout: 60_000 });
  } catch {
    /* not installed, or nothing gained: the PNG stays as taken */
  }
  log(`${path.relative(REPO, file)} (${Math.round(fs.statSync(file).size / 1024)} KB)`);
}

async function shoot(page, base, name, url, expectTexts, opts = {}) {
  await page.goto(`${base}${url}`, { waitUntil: 'load' });
  // The fixed footer would cover a row of a full-page shot.
  await page.addStyleTag({ content: '.navbar-fixed-bottom { position: static !important; }' });
  const body = await page.content();
  for (const t of expectTexts) if (!body.includes(t)) throw new Error(`${url}: expected "${t}" on the page (saved ${name}-failed.html in ${tmp})`);
  if (opts.before) await opts.before(page);
  const file = path.join(OUT, `dashboard-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shrink(file);
}

/** Clicks Sidekiq Web's buttons and checks in Redis (and with `verk processes`) that verk did what they ask. */
async function actions(page, base, redis, redisUrl, identity, verkWork) {
  const today = day(Date.now());
  const failedToday = async () => Number(await redis.get(`stat:failed:${today}`));
  const processedToday = async () => Number(await redis.get(`stat:processed:${today}`));
  const done = [];
  const submit = async (url, rowText, button) => {
    await page.goto(`${base}${url}`);
    await page.locator('tr', { hasText: rowText }).locator('input[type=checkbox]').check();
    await page.locator(`input[name=${button}]`).first().click();
    await page.waitForLoadState('load');
  };

  const p0 = await processedToday();
  await submit('/scheduled', 'digest', 'add_to_queue');
  await waitFor('Add to Queue: the scheduled job runs', async () => (await redis.zcard('schedule')) === 2 && (await processedToday()) === p0 + 1);
  done.push('Scheduled › Add to Queue: Newsletter.Send ran at once');

  const f0 = await failedToday();
  await submit('/retries', 'invoice 1042', 'retry');
  // Sidekiq's Retry Now lowers retry_count by one before it pushes the job (a manual retry
  // spends no retry): after the new failure it is back at 0, now with retried_at.
  await waitFor('Retry Now: the retry runs again and is back in Retries', async () => {
    const entries = (await redis.zrange('retry', 0, -1)).map((e) => JSON.parse(e));
    return entries.length === 4 && entries.some((e) => e.args[0].invoice === 1042 && e.retry_count === 0 && e.retried_at) && (await failedToday()) === f0 + 1;
  });
  done.push('Retries › Retry Now: Billing.Charge ran again, failed, back in Retries (retried_at set; Sidekiq lowers retry_count before a manual retry)');

  await submit('/morgue', 'row 17 has', 'retry');
  await waitFor('dead Retry Now: the job runs again and is buried again', async () => (await failedToday()) === f0 + 2 && (await redis.zcard('dead')) === 3);
  done.push('Dead › Retry Now: Import.Csv ran again, failed, back in Dead');

  await page.goto(`${base}/queues`);
  await page.locator('tr', { hasText: 'low' }).locator('input[name=delete]').click();
  await page.waitForLoadState('load');
  await waitFor('queue low deleted', async () => (await redis.exists('queue:low')) === 0);
  done.push('Queues › Delete: queue:low removed');

  await page.goto(`${base}/busy`);
  await page.locator('button[name=quiet]').first().click();
  await waitFor('Quiet: verk processes says quiet', async () => JSON.parse(verk(['processes', '--json'], redisUrl)).processes[0]?.state === 'quiet');
  done.push('Busy › Quiet: `verk processes` shows the supervisor quiet (running jobs go on)');

  await page.goto(`${base}/busy`);
  await page.locator('button[name=stop]').first().click();
  await waitFor('Stop: verk work exits', async () => verkWork.exitCode !== null || verkWork.signalCode !== null);
  await waitFor('Stop: the process leaves the processes set', async () => (await redis.sismember('processes', identity)) === 0);
  done.push('Busy › Stop: `verk work` handed its running jobs back, left `processes` and exited');
  for (const d of done) log(`action ok: ${d}`);
}

async function main() {
  prerequisites();
  fs.mkdirSync(OUT, { recursive: true });
  const redisPort = await freePort();
  const redisUrl = `redis://127.0.0.1:${redisPort}/0`;
  start('redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp]);
  const { Client } = await import(path.join(REPO, 'dist', 'index.js'));
  const client = new Client({ redisUrl });
  const { redis } = client;
  await waitFor('redis-server', async () => (await redis.ping()) === 'PONG');
  const jobs = writeHandlers();

  const past = await pastDays(client, redisUrl, jobs);
  await seed(client, redisUrl);
  const verkWork = start('verk-work', 'node', [
    VERK,
    'work',
    '--redis-url',
    redisUrl,
    '--handlers',
    jobs,
    '--queues',
    'default:4,mail:3',
    '-p',
    '2',
    '--log-format',
    'json',
    '--shutdown-timeout',
    '2s',
  ]);
  const [identity] = await waitFor('the supervisor in processes', async () => {
    const ids = await redis.smembers('processes');
    return ids.length === 1 && (await redis.exists(ids[0])) ? ids : undefined;
  });
  const today = day(Date.now());
  const todays = 40 + 4 + 3; // Reports.Daily + Billing.Charge + Import.Csv executions
  await waitFor('retries, dead, running jobs and today’s counters', async () => {
    const [retry, dead, workers, processed] = await Promise.all([
      redis.zcard('retry'),
      redis.zcard('dead'),
      redis.hlen(`${identity}:workers`),
      redis.get(`stat:processed:${today}`),
    ]);
    return retry === 4 && dead === 3 && workers === 6 && Number(processed) === todays;
  });
  const info = JSON.parse(await redis.hget(identity, 'info'));
  const nodes = info.labels.filter((l) => l !== 'verk');
  log(`identity ${identity}; nodes ${nodes.join(', ')}; today ${today}: ${todays} executions`);

  const webPort = await freePort();
  start('sidekiq-web', 'rackup', ['-s', 'webrick', '-o', '127.0.0.1', '-p', String(webPort), CONFIG_RU], {
    REDIS_URL: redisUrl,
    SESSION_SECRET: 'x'.repeat(64),
    RACK_ENV: 'production',
  });
  const base = `http://127.0.0.1:${webPort}`;
  await waitFor('Sidekiq Web', async () => (await fetch(`${base}/`)).ok);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    // Full-page shots of a short viewport: each image is as tall as its page's content.
    const page = await browser.newPage({ viewport: { width: WIDTH, height: 400 }, colorScheme: 'light' });
    await shoot(page, base, 'busy', '/busy', [
      identity.split(':').slice(0, 2).join(':'),
      identity,
      ...nodes,
      'Mailers.Welcome',
      '12345678901234567890',
      'args truncated by verk',
    ]);
    await shoot(page, base, 'queues', '/queues', ['default', 'mail', 'low', '>12<']);
    await shoot(page, base, 'retries', '/retries', ['Billing.Charge', 'CardError', 'card declined for invoice 1042']);
    await shoot(page, base, 'scheduled', '/scheduled', ['Newsletter.Send', 'product-news']);
    await shoot(page, base, 'dead', '/morgue', ['Import.Csv', 'RangeError', 's3://uploads/customers-2026-11.csv']);
    await shoot(page, base, 'dashboard', '/', ['data-processed=', `${today}&quot;:${todays}`], {
      before: async (p) => {
        const h = await p.evaluate(drawHistory);
        for (const d of past)
          if (h.processed[d.date] !== d.processed || (h.failed[d.date] ?? 0) !== d.failed)
            throw new Error(`History ${d.date}: Sidekiq Web shows ${h.processed[d.date]}/${h.failed[d.date]}, verk ran ${d.processed}/${d.failed}`);
        if (h.processed[today] !== todays) throw new Error(`History ${today}: ${h.processed[today]}, expected ${todays}`);
        log(`History as Sidekiq Web reads it: ${[...past.map((d) => d.date), today].map((d) => `${d} ${h.processed[d]}/${h.failed[d] ?? 0}`).join(', ')}`);
      },
    });
    const box = await page.locator('#history').boundingBox();
    const history = path.join(OUT, 'dashboard-history.png');
    await page.screenshot({ path: history, fullPage: true, clip: { x: 0, y: Math.max(0, box.y - 70), width: WIDTH, height: box.height + 90 } });
    shrink(history);
    if (!process.argv.includes('--no-actions')) await actions(page, base, redis, redisUrl, identity, verkWork);
  } finally {
    await browser.close();
    await client.close();
  }
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  console.error(`[dashboard] ${err.message}`);
} finally {
  for (const c of children.reverse()) await stop(c);
  if (!failed) fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
