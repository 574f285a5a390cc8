// The jobs of the dashboard screenshot script: handler modules (running, succeeding, retrying,
// dying, scheduled), past days' counters from `verk work` runs under libfaketime, and the seed
// for the pages (Retries, Dead, Scheduled, a backlog, busy jobs with a big integer and a huge arg).
import fs from 'node:fs';
import path from 'node:path';
import { VERK, day, log, start, stop, tmp, verk, waitFor } from './processes.mjs';

const FAKETIME_LIB = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((f) => fs.existsSync(f));

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

export function writeHandlers() {
  const dir = path.join(tmp, 'jobs');
  for (const [name, body] of Object.entries(HANDLERS)) {
    fs.mkdirSync(path.join(dir, path.dirname(name)), { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.mjs`), `${body}\n`);
  }
  return dir;
}

/** Past days' counters, written by real `verk work` runs whose wall clock libfaketime sets back. */
export async function pastDays(client, redisUrl, jobs) {
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

export async function seed(client, redisUrl) {
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
