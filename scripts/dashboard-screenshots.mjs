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
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { actions, drawHistory, shoot, shrink } from './dashboard/pages.mjs';
import { pastDays, seed, writeHandlers } from './dashboard/fleet.mjs';
import { REPO, VERK, children, day, freePort, log, need, start, stop, tmp, waitFor } from './dashboard/processes.mjs';

const CONFIG_RU = path.join(REPO, 'examples', 'sidekiq-web', 'config.ru');
const OUT = path.resolve(process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : path.join(REPO, 'docs', 'img'));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WIDTH = 1200;

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
  const site = { base, out: OUT };
  await waitFor('Sidekiq Web', async () => (await fetch(`${base}/`)).ok);

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    // Full-page shots of a short viewport: each image is as tall as its page's content.
    const page = await browser.newPage({ viewport: { width: WIDTH, height: 400 }, colorScheme: 'light' });
    await shoot(page, site, 'busy', '/busy', [
      identity.split(':').slice(0, 2).join(':'),
      identity,
      ...nodes,
      'Mailers.Welcome',
      '12345678901234567890',
      'args truncated by verk',
    ]);
    await shoot(page, site, 'queues', '/queues', ['default', 'mail', 'low', '>12<']);
    await shoot(page, site, 'retries', '/retries', ['Billing.Charge', 'CardError', 'card declined for invoice 1042']);
    await shoot(page, site, 'scheduled', '/scheduled', ['Newsletter.Send', 'product-news']);
    await shoot(page, site, 'dead', '/morgue', ['Import.Csv', 'RangeError', 's3://uploads/customers-2026-11.csv']);
    await shoot(page, site, 'dashboard', '/', ['data-processed=', `${today}&quot;:${todays}`], {
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
