// Unique locks, by property (docs/unique-jobs.md): random sequences of what producers, workers,
// the reaper, the scheduler, operators and outsiders do to unique jobs, each through the script
// call verk itself makes (src/redis/scripts.ts), on a private redis-server. After every step:
//   owner   every job carrying key K in a live place (a queue, an in-progress or claim list,
//           schedule, retry) holds K's lock (the lock's value is its jid), except an until
//           'started' job after its start; so no two live jobs ever hold one key;
//   holder  every lock names a job in a live place, or one deleted behind verk's back (by a raw
//           LREM/ZREM) since the last sweep; after a sweep, only a live job.
// The sweeper therefore never releases a live owner's lock, and releases every orphan.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { Scripts, type UniqueRef } from '../../src/redis/scripts.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Client } from '../../src/api/client.js';
import { decodeJob } from '../../src/job/codec.js';
import { payloadIdentity } from '../../src/job/identity.js';
import { reapOptions } from '../../src/redis/reap-options.js';
import { testConfig } from '../helpers/config.js';

const K = makeKeys('');
const NODES = ['n1', 'n2'] as const;
const KEYS = ['a', 'b', 'c'];
const LIVE = [K.queue('q'), ...NODES.map((n) => K.inprogress('q', n)), ...NODES.map((n) => K.nodeClaim(n, 'q')), K.schedule, K.retry];

interface World {
  redis: Redis;
  scripts: Scripts;
  client: Client;
  started: Set<string>;
  /** Jobs deleted behind verk's back since the last sweep. */
  orphaned: Set<string>;
  /** Payloads each node fetched (a zombie may ack them after it was reaped). */
  fetched: Map<string, Buffer[]>;
}
type Model = Record<string, never>;

const seen = new Map<string, number>();
const count = (k: string, n = 1) => seen.set(k, (seen.get(k) ?? 0) + n);

async function items(redis: Redis, key: string): Promise<Buffer[]> {
  const t = await redis.type(key);
  if (t === 'list') return redis.lrangeBuffer(key, 0, -1);
  if (t === 'zset') return redis.zrangeBuffer(key, 0, -1);
  return [];
}

function lockOf(raw: Buffer): (UniqueRef & { until: string }) | undefined {
  const d = decodeJob(raw);
  return d.ok && d.job.unique && d.job.unique.until !== 'ttl' ? { key: d.job.unique.key, jid: d.job.jid, until: d.job.unique.until } : undefined;
}

async function check(w: World, after: string): Promise<void> {
  const live = new Map<string, string>(); // jid -> key
  for (const place of LIVE) {
    for (const raw of await items(w.redis, place)) {
      const l = lockOf(raw);
      if (!l) continue;
      live.set(l.jid, l.key);
      const holder = await w.redis.get(K.unique(l.key));
      if (holder !== l.jid && !(l.until === 'started' && w.started.has(l.jid)))
        throw new Error(`after ${after}: job ${l.jid} (key ${l.key}, until ${l.until}) in ${place} but the lock is ${holder === null ? 'free' : `held by ${holder}`}`);
    }
  }
  for (const key of KEYS) {
    const holder = await w.redis.get(K.unique(key));
    if (holder === null || live.get(holder) === key || w.orphaned.has(holder)) continue;
    throw new Error(`after ${after}: lock ${key} is held by ${holder}, which is in no live place`);
  }
}

class Step implements fc.AsyncCommand<Model, World> {
  constructor(
    private readonly label: string,
    private readonly act: (w: World) => Promise<unknown>,
  ) {}
  check = () => true;
  async run(_m: Model, w: World): Promise<void> {
    await this.act(w);
    await check(w, this.label);
  }
  toString = () => this.label;
}

const node = fc.constantFrom(...NODES);
const pickOf = async (w: World, key: string, i: number) => {
  const xs = await items(w.redis, key);
  return xs.length ? xs[i % xs.length] : undefined;
};

const enqueue = fc.record({ k: fc.constantFrom(...KEYS), until: fc.constantFrom('done', 'started'), later: fc.boolean() }).map(
  ({ k, until, later }) =>
    new Step(`enqueue(${k}, ${until}${later ? ', scheduled' : ''})`, async (w) => {
      const r = await w.client.push(
        { class: 'U', args: [k], queue: 'q', unique: { key: (a) => String(a[0]), until: until as 'done' } },
        later ? Date.now() + 3_600_000 : undefined,
      );
      count(r.enqueued ? 'enqueued' : 'refused');
    }),
);

const fetch = node.map(
  (n) =>
    new Step(`fetch(${n})`, async (w) => {
      const r = await w.scripts.fetch('q', n, 2, true);
      w.fetched.get(n)!.push(...r.jobs);
    }),
);

const claim = node.map((n) => new Step(`BLMOVE into ${n}'s claim list`, (w) => w.redis.lmove(K.queue('q'), K.nodeClaim(n, 'q'), 'RIGHT', 'LEFT')));

const start = fc.record({ n: node, i: fc.nat() }).map(
  ({ n, i }) =>
    new Step(`start(${n}, pick=${i})`, async (w) => {
      const raw = await pickOf(w, K.inprogress('q', n), i);
      const l = raw && lockOf(raw);
      if (!l) return;
      w.started.add(l.jid);
      if (l.until === 'started' && (await w.scripts.uniqueStart('q', n, raw, l)) === 'released') count('released at start');
    }),
);

/** An ack as the Settler sends it: by bytes, with the lock tail; `stale` acks what the node fetched earlier (a zombie after a reap). */
const ack = fc.record({ n: node, is: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), stale: fc.boolean() }).map(
  ({ n, is, stale }) =>
    new Step(`ack(${n}, picks=[${is}]${stale ? ', stale' : ''})`, async (w) => {
      const pool = stale ? w.fetched.get(n)! : await items(w.redis, K.inprogress('q', n));
      if (!pool.length) return;
      const raws = [...new Set(is.map((i) => pool[i % pool.length]))];
      const r = await w.scripts.ack('q', n, raws, 0, { locks: raws.map(lockOf) });
      if (stale && r.removed < raws.length) count('zombie ack refused');
    }),
);

const fail = fc.record({ n: node, i: fc.nat(), mode: fc.constantFrom('retry', 'dead', 'drop') }).map(
  ({ n, i, mode }) =>
    new Step(`fail(${n}, pick=${i}, ${mode})`, async (w) => {
      const raw = await pickOf(w, K.inprogress('q', n), i);
      if (!raw) return;
      await w.scripts.fail({ queue: 'q', node: n, raw, mode: mode as 'retry', payload: raw, score: 1000 + i, deadMinScore: 0, deadMaxJobs: 1000, unique: lockOf(raw) });
    }),
);

const promote = fc.constantFrom('schedule', 'retry').map(
  (set) =>
    new Step(`promote(${set})`, async (w) => {
      const due = await w.redis.zrangeBuffer(K[set as 'retry'], 0, 9);
      if (due.length)
        await w.scripts.promote(
          set as 'retry',
          1,
          due.map((m) => ({ member: m, payload: m, queue: 'q' })),
        );
    }),
);

const setName = fc.constantFrom('schedule', 'retry', 'dead');

const kill = fc.record({ set: fc.constantFrom('schedule', 'retry'), i: fc.nat() }).map(
  ({ set, i }) =>
    new Step(`kill(${set}, pick=${i})`, async (w) => {
      const m = await pickOf(w, K[set as 'retry'], i);
      if (m) await w.scripts.kill(set as 'retry', m, 1, 0, 1000, !!lockOf(m));
    }),
);

const requeue = fc.record({ set: setName, i: fc.nat() }).map(
  ({ set, i }) =>
    new Step(`requeue(${set}, pick=${i})`, async (w) => {
      const m = await pickOf(w, K[set as 'dead'], i);
      if (!m) return;
      const l = lockOf(m);
      const r = await w.scripts.requeue(set as 'dead', m, m, 'q', l && { key: l.key, jid: l.jid, until: l.until as 'done' });
      if (typeof r === 'object') count('requeue refused');
      // A requeued job runs again from the start: an until 'started' job holds its lock again.
      else if (r === 'moved' && l) w.started.delete(l.jid);
    }),
);

const containers = [K.queue('q'), K.schedule, K.retry, K.dead];
const drop = fc.record({ c: fc.nat(containers.length - 1), i: fc.nat(), raw: fc.boolean() }).map(
  ({ c, i, raw }) =>
    new Step(`${raw ? 'raw delete' : 'delete'}(${containers[c]}, pick=${i})`, async (w) => {
      const m = await pickOf(w, containers[c], i);
      if (!m) return;
      if (!raw) return w.scripts.uniqueDrop(containers[c], m);
      const l = lockOf(m);
      if (l) w.orphaned.add(l.jid);
      return containers[c] === K.queue('q') ? w.redis.lrem(containers[c], 0, m) : w.redis.zrem(containers[c], m);
    }),
);

const handback = fc.record({ n: node, i: fc.nat() }).map(
  ({ n, i }) =>
    new Step(`handback(${n}, pick=${i})`, async (w) => {
      const raw = await pickOf(w, K.inprogress('q', n), i);
      if (raw) await w.scripts.handback('q', n, [raw]);
    }),
);

/** n2 dies and is reaped (the jobs it had started count; maxRecoveries 0 or 1 makes pills), then registers again. */
const reap = fc.constantFrom(0, 1).map(
  (maxRecoveries) =>
    new Step(`n2 dies and is reaped (maxRecoveries ${maxRecoveries})`, async (w) => {
      await w.redis.del(K.node('n2'));
      const held = [...(await items(w.redis, K.inprogress('q', 'n2'))), ...(await items(w.redis, K.nodeClaim('n2', 'q')))];
      const startedIds = held.filter((r) => w.started.has(lockOf(r)?.jid ?? '')).map((r) => payloadIdentity(r));
      const r = await w.scripts.reapAll({ ...reapOptions(testConfig({ maxRecoveries }), 'n2', 'test'), startedIds });
      count('reaped', r.moved);
      count('pills', r.buried);
      await w.scripts.register('n2', 600_000, 600_000, {});
    }),
);

const sweep = fc.constant(
  new Step('sweep', async (w) => {
    const r = await w.scripts.uniqueSweep(0, 'test');
    count('swept', r.released.length);
    for (const l of r.released) if (!w.orphaned.has(l.jid)) throw new Error(`the sweeper released ${l.key} of ${l.jid}, which was not deleted behind verk's back`);
    w.orphaned.clear();
    // Every lock now names a live job.
    await check(w, 'sweep');
  }),
);

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  console.log(`[measured] unique-lock property: ${[...seen].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  await server?.stop();
});

describe('unique locks under any sequence of enqueues, fetches, starts, acks, failures, promotions, kills, requeues, deletes, reaps and sweeps', () => {
  it('no two live owners of one key, no lock without a live owner after a sweep, the sweeper releases only orphans', async () => {
    const scripts = new Scripts(server.client, K);
    const client = new Client({ redis: server.client });
    const cmds = [enqueue, enqueue, enqueue, fetch, fetch, claim, start, start, ack, ack, fail, promote, kill, requeue, drop, handback, reap, sweep];
    await fc.assert(
      fc.asyncProperty(fc.commands(cmds, { maxCommands: 60, size: 'large' }), async (seq) => {
        await server.client.flushdb();
        for (const n of NODES) await scripts.register(n, 600_000, 600_000, {});
        const w: World = { redis: server.client, scripts, client, started: new Set(), orphaned: new Set(), fetched: new Map(NODES.map((n) => [n, []])) };
        await fc.asyncModelRun(() => ({ model: {}, real: w }), seq);
      }),
      { numRuns: 300, interruptAfterTimeLimit: 60_000 },
    );
    for (const k of ['enqueued', 'refused', 'released at start', 'swept', 'reaped', 'pills', 'zombie ack refused', 'requeue refused'])
      expect(seen.get(k) ?? 0, k).toBeGreaterThan(0);
  }, 120_000);
});
