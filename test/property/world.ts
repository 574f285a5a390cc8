// The small Redis world the property tests run scripts in: two queues, three nodes (live,
// dead, unregistered), payloads placed in every kind of place, and keys that can be made the
// wrong type (a string) so a script fails mid-way.
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { payloadIdentity } from '../../src/job/identity.js';
import { makeKeys } from '../../src/redis/keys.js';
import { payload } from './payloads.js';

export const K = makeKeys('');
export const QUEUES = ['q', 'r'] as const;
export const NODES = ['n1', 'n2', 'n3'] as const;
export type Queue = (typeof QUEUES)[number];
export type NodeId = (typeof NODES)[number];
export const SETS = ['schedule', 'retry', 'dead'] as const;
export type SetName = (typeof SETS)[number];

/** Every place a payload can sit in: the 14 lists first (queues, in-progress, claim lists), the 3 sorted sets last. */
export const PLACES = [
  ...QUEUES.map((q) => K.queue(q)),
  ...QUEUES.flatMap((q) => NODES.map((n) => K.inprogress(q, n))),
  ...QUEUES.flatMap((q) => NODES.map((n) => K.nodeClaim(n, q))),
  ...SETS.map((s) => K[s]),
];

export interface World {
  redis: Redis;
  /** Every payload the run started with (used when a pick finds an empty place). */
  pool: Buffer[];
}

export interface Initial {
  pool: Buffer[];
  /** Per place (PLACES order): the pool indices it holds, with a score for sorted sets. */
  placed: { p: number; score: number }[][];
  nodes: { registered: boolean; alive: boolean; queues: boolean[] }[];
  /** Per queue: paused cluster-wide (verk:paused). */
  paused: boolean[];
}

export const initial: fc.Arbitrary<Initial> = fc.record({
  pool: fc.array(payload, { minLength: 1, maxLength: 6 }),
  placed: fc.tuple(...PLACES.map(() => fc.array(fc.record({ p: fc.nat(), score: fc.integer({ min: 1000, max: 2000 }) }), { maxLength: 3 }))),
  // n1 is a live worker, n2 a registered node whose heartbeat expired, n3 anything.
  // q is paused in a quarter of the runs, r never.
  paused: fc.tuple(
    fc.nat(3).map((x) => x === 0),
    fc.constant(false),
  ),
  nodes: fc.tuple(
    fc.constant({ registered: true, alive: true, queues: [true, true] }),
    fc.constant({ registered: true, alive: false, queues: [true, true] }),
    fc.record({ registered: fc.boolean(), alive: fc.boolean(), queues: fc.tuple(fc.boolean(), fc.boolean()) }),
  ),
});

/** Empties the database and writes an initial state. */
export async function setUp(redis: Redis, init: Initial): Promise<void> {
  await redis.flushdb();
  const pipe = redis.multi();
  init.placed.forEach((entries, place) => {
    const key = PLACES[place];
    for (const { p, score } of entries) {
      const raw = init.pool[p % init.pool.length];
      if ((SETS as readonly string[]).includes(key)) pipe.zadd(key, score, raw);
      else pipe.lpush(key, raw);
    }
  });
  QUEUES.forEach((q, i) => {
    if (init.paused[i]) pipe.sadd(K.paused, q);
  });
  init.nodes.forEach((n, i) => {
    const id = NODES[i];
    if (n.registered) pipe.sadd(K.nodes, id);
    if (n.alive) pipe.set(K.node(id), 'alive', 'PX', 600_000);
    QUEUES.forEach((q, j) => {
      if (n.queues[j]) pipe.sadd(K.nodeQueues(id), q);
    });
  });
  await pipe.exec();
}

/** The items of a list or sorted set, as bytes. */
export async function items(redis: Redis, key: string): Promise<Buffer[]> {
  const type = await redis.type(key);
  if (type === 'list') return redis.lrangeBuffer(key, 0, -1);
  if (type === 'zset') return redis.zrangeBuffer(key, 0, -1);
  return [];
}

/** Picks item `i` of a place, or (empty place) a payload of the pool that it does not hold. */
export async function pick(w: World, key: string, i: number): Promise<Buffer> {
  const xs = await items(w.redis, key);
  return xs.length ? xs[i % xs.length] : w.pool[i % w.pool.length];
}

const STATS = [K.processed(), K.processed('q'), K.failed(), K.failed('q')];
/** The supervisor identity and day the daily-counter flushes use. */
export const FLUSH_ID = 'h:1:abcdefabcdef';
export const FLUSH_DAY = '2026-03-01';
const DAILY = [K.statsFlushed(FLUSH_ID), K.processedOn(FLUSH_DAY), K.failedOn(FLUSH_DAY)];
const QUEUE_KEYS = QUEUES.map((q) => K.queue(q));
const INPROGRESS_KEYS = QUEUES.flatMap((q) => NODES.map((n) => K.inprogress(q, n)));
/** The recovery counter of a job node n2 holds (resolved at run time). */
export const RECOVERED = 'recovered-of-a-held-job';

/** Keys a test may turn into a string so a script hits WRONGTYPE after (or before) a write. */
export const CORRUPTIBLE: string[] = [
  ...PLACES,
  ...STATS,
  K.recoveries,
  K.queues,
  K.paused,
  K.heartbeats,
  ...NODES.map((n) => K.nodeQueues(n)),
  ...NODES.map((n) => K.nodeInfo(n)),
  ...DAILY,
  RECOVERED,
];

/** The keys each script writes (or reads) that can be made the wrong type; destinations weigh double. */
export const TARGETS: Record<string, string[]> = {
  fetch: [...INPROGRESS_KEYS, ...INPROGRESS_KEYS, K.nodeQueues('n1'), K.paused],
  ack: [...INPROGRESS_KEYS, ...INPROGRESS_KEYS, ...STATS],
  fail: [K.retry, K.retry, K.dead, K.dead, ...STATS],
  handback: QUEUE_KEYS,
  reclaim: [...INPROGRESS_KEYS, ...INPROGRESS_KEYS, ...QUEUE_KEYS],
  promote: [...QUEUE_KEYS, ...QUEUE_KEYS, K.dead, K.dead, K.queues],
  requeue: [...QUEUE_KEYS, ...QUEUE_KEYS, K.queues],
  kill: [K.dead, K.dead, K.retry, K.schedule],
  setPage: [K.retry, K.dead, K.schedule],
  fleetEvent: [K.events],
  requeueOrphan: QUEUE_KEYS,
  register: [K.nodes, ...NODES.map((n) => K.nodeInfo(n))],
  heartbeat: [K.nodes, ...NODES.map((n) => K.nodeInfo(n))],
  reap: [...QUEUE_KEYS, ...QUEUE_KEYS, K.dead, K.dead, K.recoveries, RECOVERED, RECOVERED, K.reaping, K.nodeQueues('n2'), K.heartbeats],
  claim: [...INPROGRESS_KEYS, ...INPROGRESS_KEYS, ...QUEUE_KEYS, K.paused],
  reapScan: [K.heartbeats, K.heartbeats],
  nodeSweep: [K.nodes, K.reaping, K.heartbeats],
  flushDailyStats: DAILY,
  cronTick: [...QUEUE_KEYS, ...QUEUE_KEYS, K.queues, K.nodes],
};

/** Where a wrong-typed key's payloads wait meanwhile (a list or sorted set: still counted as a place). */
export const parked = (key: string): string => `parked:${key}`;

/** Makes `key` a string "x"; payloads it held are parked, never destroyed by the test. */
export async function corrupt(redis: Redis, key: string): Promise<void> {
  const type = await redis.type(key);
  if (type === 'string') return;
  if (type !== 'none') {
    if (await redis.exists(parked(key))) return;
    await redis.rename(key, parked(key));
  }
  await redis.set(key, 'x');
}

/** Undoes every corrupt(): deletes the "x" strings and brings parked payloads back. */
export async function repair(redis: Redis): Promise<void> {
  for (const key of await redis.keys('*')) {
    if ((await redis.type(key)) === 'string' && (await redis.get(key)) === 'x') await redis.del(key);
  }
  for (const p of await redis.keys(parked('*'))) {
    const key = p.slice(parked('').length);
    if (!(await redis.exists(key))) await redis.rename(p, key);
  }
}

/** The key behind a CORRUPTIBLE name (the recovery counter of some job the node n2 holds). */
export async function corruptibleKey(w: World, name: string, i: number): Promise<string> {
  if (name !== RECOVERED) return name;
  return K.recovered(payloadIdentity(await pick(w, K.inprogress(QUEUES[i % 2], NODES[1]), i)));
}
