// Periodic jobs against a real redis-server: the tick script's decisions (arm, fire, no-op on a
// resend, refuse a future tick, pause, overlap) and several cron duties racing the same
// every-second ticks on one Redis, each with its own connection: exactly one job per tick.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCron, type CronEntry } from '../../src/config/cron.js';
import { CronDuty } from '../../src/core/duties/cron.js';
import { cronJobHead } from '../../src/job/cron-job.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';
import type { CronTickCall } from '../../src/redis/cron-calls.js';
import { silentLogger } from '../../src/util/logger.js';
import { Ticker } from '../../src/util/ticker.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { fakeRegistry, workerKit } from '../helpers/engine-kit.js';

let server: RedisServer;
let scripts: Scripts;
const keys = makeKeys('');

beforeAll(async () => {
  server = await startRedis();
  scripts = new Scripts(server.client, keys);
});
afterAll(async () => server.stop());
beforeEach(async () => {
  await server.client.flushdb();
});

const entry = (o: Record<string, unknown> = {}): CronEntry =>
  parseCron({ e: { class: 'Reports.Nightly', schedule: '* * * * * *', ...o } }, (why) => {
    throw new Error(why);
  })[0];

/** One call; fire/miss plan from the entry's current watermark unless `expectedMs` says otherwise. */
async function call(e: CronEntry, mode: CronTickCall['mode'], tickMs: number, jid = `jid-${mode}-${tickMs}`, expectedMs?: number) {
  const { head } = cronJobHead(e, jid);
  const expected = expectedMs ?? Number(await server.client.hget(keys.cronState(e.name), 'last_tick'));
  return scripts.cronTick({ mode, name: e.name, queue: e.queue, overlap: e.overlap, tickMs, expectedMs: expected, head, jid, by: 'test', recoveredForms: 3 });
}

/** INFO commandstats as command → { calls, usec } (commands run inside scripts included). */
function commandStats(info: string): Map<string, { calls: number; usec: number }> {
  const out = new Map<string, { calls: number; usec: number }>();
  for (const m of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/gm)) out.set(m[1], { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}

const redisNow = async () => {
  const [s, us] = await server.client.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
};
const queued = () => server.client.lrange(keys.queue('default'), 0, -1);

/** Arms the entry; then each call gives the next tick instant (1 ms apart), once Redis's clock has passed it. */
async function armedTicks(e: CronEntry): Promise<() => Promise<number>> {
  let { nowMs: t } = await call(e, 'init', 0);
  return async () => {
    t += 1;
    await waitFor(async () => (await redisNow()) >= t);
    return t;
  };
}

describe('cron-tick script', () => {
  it('arms an entry at Redis now, fires a due tick once, and is a no-op for a resend or an older tick', async () => {
    const e = entry();
    const armed = await call(e, 'init', 0);
    expect(armed.outcome).toBe('init');
    const tick = Math.floor(armed.nowMs / 1000) * 1000 + 1000;
    await waitFor(async () => (await redisNow()) >= tick, { what: 'the tick to be due' });
    const first = await call(e, 'fire', tick, 'aaa');
    expect(first).toMatchObject({ outcome: 'fired', jid: 'aaa', tickMs: tick });
    expect(first.nowMs - tick).toBeGreaterThanOrEqual(0);
    // A resend of the same call (lost reply), another node's call, an older tick: nothing more.
    expect((await call(e, 'fire', tick, 'aaa')).outcome).toBe('dup');
    expect((await call(e, 'fire', tick, 'bbb')).outcome).toBe('dup');
    expect((await call(e, 'fire', tick - 1000, 'ccc')).outcome).toBe('dup');
    expect((await call(e, 'miss', tick)).outcome).toBe('dup');
    // A later tick planned from a watermark that has moved since: refused, nothing written.
    await waitFor(async () => (await redisNow()) >= tick + 1000);
    expect((await call(e, 'fire', tick + 1000, 'ddd', armed.nowMs)).outcome).toBe('stale');
    const jobs = await queued();
    expect(jobs).toHaveLength(1);
    const job = JSON.parse(jobs[0]);
    expect(job).toMatchObject({ retry: true, queue: 'default', class: 'Reports.Nightly', args: [], jid: 'aaa', cron: { entry: 'e', tick: tick / 1000 } });
    expect(job.enqueued_at).toBeCloseTo(first.nowMs / 1000, 2);
    expect(await server.client.sismember(keys.queues, 'default')).toBe(1);
    expect(await server.client.hget(keys.cronState('e'), 'last_tick')).toBe(String(tick));
    const history = (await server.client.lrange(keys.cronHistory('e'), 0, -1)).map((h) => JSON.parse(h));
    expect(history.map((h) => h.outcome)).toEqual(['fired', 'armed']);
    expect(history[0]).toMatchObject({ tick, jid: 'aaa', by: 'test' });
  });

  it('refuses a tick after Redis now (nothing written) and a second init', async () => {
    const e = entry();
    const armed = await call(e, 'init', 0);
    expect((await call(e, 'init', 0)).outcome).toBe('dup');
    expect((await call(e, 'fire', armed.nowMs + 60_000)).outcome).toBe('future');
    expect(await queued()).toEqual([]);
  });

  it('records a paused tick as skipped and moves on', async () => {
    const e = entry();
    const { nowMs } = await call(e, 'init', 0);
    await server.client.sadd(keys.cronPaused, 'e');
    await waitFor(async () => (await redisNow()) >= nowMs + 1);
    const r = await call(e, 'fire', nowMs + 1);
    expect(r).toMatchObject({ outcome: 'skipped', reason: 'paused' });
    expect(await queued()).toEqual([]);
    expect((await call(e, 'fire', nowMs + 1)).outcome).toBe('dup');
  });

  it('skip-if-running: the fired job carries the entry lock; ticks are skipped while it holds it (queued, in progress, reaped back), and fire once a worker acked it', async () => {
    const e = entry({ overlap: 'skip-if-running' });
    const next = await armedTicks(e);
    expect((await call(e, 'fire', await next(), 'j1')).outcome).toBe('fired');
    const [job] = await queued();
    expect(JSON.parse(job).verk_unique).toEqual({ key: 'cron:e', until: 'done' });
    expect(await server.client.get('verk:unique:cron:e')).toBe('j1');
    const skipped = await call(e, 'fire', await next(), 'j2');
    expect(skipped).toMatchObject({ outcome: 'skipped' });
    expect(skipped.reason).toContain('previous job j1 still holds the entry lock cron:e');
    // Fetched by a node: in progress. Reaped: back in the queue with "verk_recovered" appended.
    await server.client.lmove(keys.queue('default'), keys.inprogress('default', 'n1'), 'RIGHT', 'LEFT');
    expect((await call(e, 'fire', await next(), 'j3')).outcome).toBe('skipped');
    await server.client.del(keys.inprogress('default', 'n1'));
    await server.client.rpush(keys.queue('default'), `${job.slice(0, -1)},"verk_recovered":1}`);
    expect((await call(e, 'fire', await next(), 'j4')).outcome).toBe('skipped');
    // A worker runs and acks it: the ack releases the lock, and the next tick fires.
    const ran: string[] = [];
    const kit = await workerKit(server.url, 'w1', fakeRegistry({ 'Reports.Nightly': (_args, ctx) => void ran.push(ctx.jid) }), { queue: 'default' });
    try {
      kit.worker.start();
      await waitFor(async () => (await server.client.exists('verk:unique:cron:e')) === 0, { what: 'the ack releasing the lock' });
    } finally {
      await kit.worker.stopFetching();
      await kit.close();
    }
    expect(ran).toEqual(['j1']);
    expect((await call(e, 'fire', await next(), 'j5')).outcome).toBe('fired');
    expect(await server.client.get('verk:unique:cron:e')).toBe('j5');
  });

  it('skip-if-running: a last job without the lock (an operator’s run while it was held, or a job fired before the lock) is looked for by its bytes', async () => {
    const e = entry({ overlap: 'skip-if-running' });
    const next = await armedTicks(e);
    expect((await call(e, 'fire', await next(), 'j1')).outcome).toBe('fired');
    // An operator's run while j1 holds the lock: pushed without it.
    expect((await call(e, 'run', 0, 'r1')).outcome).toBe('run');
    const run = (await queued()).find((j) => JSON.parse(j).jid === 'r1')!;
    expect(JSON.parse(run).verk_unique).toBeUndefined();
    // j1 goes (as its ack would release it): r1, the last job, is found in the queue by its bytes.
    await server.client.lrem(keys.queue('default'), 0, (await queued()).find((j) => JSON.parse(j).jid === 'j1')!);
    await server.client.del('verk:unique:cron:e');
    await server.client.sadd(keys.nodes, 'n1');
    const skip = await call(e, 'fire', await next(), 'j2');
    expect(skip.reason).toContain('r1 still queued');
    await server.client.lmove(keys.queue('default'), keys.inprogress('default', 'n1'), 'RIGHT', 'LEFT');
    expect((await call(e, 'fire', await next(), 'j3')).reason).toContain('r1 still in progress on node n1');
    await server.client.del(keys.inprogress('default', 'n1'));
    expect((await call(e, 'fire', await next(), 'j4')).outcome).toBe('fired');
    expect(await server.client.get('verk:unique:cron:e')).toBe('j4');
  });

  it('replace: removes the last job while it is still queued, then pushes the new one', async () => {
    const e = entry({ overlap: 'replace' });
    let { nowMs: t } = await call(e, 'init', 0);
    t += 1;
    await waitFor(async () => (await redisNow()) >= t + 1);
    await server.client.lpush(keys.queue('default'), 'other');
    expect((await call(e, 'fire', t, 'r1')).replaced).toBe(false);
    const r = await call(e, 'fire', t + 1, 'r2');
    expect(r).toMatchObject({ outcome: 'fired', replaced: true });
    const jobs = await queued();
    expect(jobs.map((j) => (j === 'other' ? j : JSON.parse(j).jid))).toEqual(['r2', 'other']);
  });

  it('miss records a run of ticks as one event and moves the watermark past it', async () => {
    const e = entry();
    const { nowMs } = await call(e, 'init', 0);
    await waitFor(async () => (await redisNow()) >= nowMs + 3);
    const { head } = cronJobHead(e, 'x');
    const r = await scripts.cronTick({
      mode: 'miss',
      name: 'e',
      queue: 'default',
      overlap: 'allow',
      tickMs: nowMs + 3,
      expectedMs: nowMs,
      missed: { count: 3, fromMs: nowMs + 1 },
      head,
      jid: 'x',
      by: 't',
      recoveredForms: 0,
    });
    expect(r).toMatchObject({ outcome: 'missed', count: 3 });
    const [event] = (await server.client.lrange(keys.cronHistory('e'), 0, 0)).map((h) => JSON.parse(h));
    expect(event).toMatchObject({ outcome: 'missed', after: nowMs, tick: nowMs + 3, count: 3 });
    expect((await call(e, 'fire', nowMs + 2)).outcome).toBe('dup');
    expect(await queued()).toEqual([]);
  });
});

describe('the cron duty sleeps until the next tick', () => {
  const duty = (schedule: string, redis = server.client, random = () => 1) =>
    new CronDuty(new Scripts(redis, keys), { cron: [entry({ schedule })], maxRecoveries: 3 }, silentLogger, 'sup', random);

  it('until the next tick of any entry plus its jitter (at most 5 % of the period, 200 ms), capped at 30 s', async () => {
    const every5 = duty('*/5 * * * * *');
    await every5.tick();
    const now = await redisNow();
    const gap = Math.ceil(now / 5000) * 5000 - now;
    // random() = 1: the largest jitter, min(200, 5 % of 5 s = 250) = 200 ms.
    expect(every5.intervalMs).toBeGreaterThanOrEqual(gap - 50);
    expect(every5.intervalMs).toBeLessThanOrEqual(gap + 200 + 50);
    const hourly = duty('0 * * * *');
    await server.client.flushdb();
    await hourly.tick();
    const toHour = 3_600_000 - ((await redisNow()) % 3_600_000);
    expect(hourly.intervalMs).toBe(Math.max(5, Math.min(30_000, toHour + 200)));
  });

  it('one second after a round that failed (Redis unreachable), not in a loop', async () => {
    const dead = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    dead.on('error', () => undefined);
    const d = duty('* * * * * *', dead);
    await expect(d.tick()).rejects.toThrow();
    expect(d.intervalMs).toBe(1000);
    dead.disconnect();
  });
});

describe('several cron duties racing the same ticks', () => {
  it('enqueue exactly one job per every-second tick, with no tick left out', async () => {
    const e = entry({ schedule: '* * * * * *' });
    const nodes = Array.from({ length: 4 }, (_, i) => {
      const redis = new Redis(server.url, { lazyConnect: false });
      const duty = new CronDuty(new Scripts(redis, keys), { cron: [e], maxRecoveries: 3 }, silentLogger, `sup-${i}`);
      const ticker = new Ticker(() => duty.tick(), { intervalMs: () => duty.intervalMs });
      return { redis, duty, ticker };
    });
    await server.client.config('RESETSTAT');
    for (const n of nodes) n.ticker.start();
    try {
      await waitFor(async () => (await server.client.llen(keys.queue('default'))) >= 6, { timeoutMs: 40_000, what: 'six ticks fired' });
    } finally {
      await Promise.all(nodes.map((n) => n.ticker.stop()));
      await Promise.all(nodes.map((n) => n.redis.quit()));
    }
    const stats = commandStats(await server.client.info('commandstats'));
    const ticks = (await queued()).map((j) => JSON.parse(j).cron.tick as number).sort((a, b) => a - b);
    expect(new Set(ticks).size).toBe(ticks.length);
    // Consecutive seconds: none missed while the duties ran.
    expect(ticks[ticks.length - 1] - ticks[0]).toBe(ticks.length - 1);
    const fired = nodes.reduce((n, x) => n + x.duty.counts.get('e')!.fired, 0);
    const dups = nodes.reduce((n, x) => n + x.duty.counts.get('e')!.dup, 0);
    expect(fired).toBe(ticks.length);
    const scriptCalls = (stats.get('evalsha')?.calls ?? 0) + (stats.get('eval')?.calls ?? 0);
    const scriptUs = (stats.get('evalsha')?.usec ?? 0) + (stats.get('eval')?.usec ?? 0);
    const clientCalls = [...stats].filter(([c]) => ['time', 'hget', 'evalsha', 'eval', 'script', 'info', 'config'].includes(c)).reduce((n, [, v]) => n + v.calls, 0);
    console.log(
      `[measured] 4 duties, ${ticks.length} ticks: ${fired} fired, ${dups} no-op script calls (the others found the watermark moved and did not call); ` +
        `Redis: ${(clientCalls / ticks.length).toFixed(1)} commands per tick from the 4 supervisors (${(scriptCalls / ticks.length).toFixed(2)} script calls), ` +
        `${(scriptUs / Math.max(1, scriptCalls)).toFixed(0)} µs per script call`,
    );
    const history = (await server.client.lrange(keys.cronHistory('e'), 0, -1)).map((h) => JSON.parse(h));
    expect(history.filter((h) => h.outcome === 'fired')).toHaveLength(ticks.length);
    expect(history.filter((h) => h.outcome === 'armed')).toHaveLength(1);
  }, 60_000);
});
