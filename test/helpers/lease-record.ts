// Reads the record the lease checker (test/helpers/lease-checker.ts) runs over, from a test's
// private Redis: the attempts test/fixtures/jobs/Leased.js wrote (test:leases), the nodes' fencing
// (the reaper's events in verk:recoveries and the supervisors' `fenced` events in verk:events,
// both Redis TIME; a fencing while Redis is down writes no event: see outageFences), and what the producer noted (test:enqueues,
// test:locks: see noteEnqueue / sampleLock). Every time is Redis TIME in ms.
import type { Redis } from 'ioredis';
import type { AttemptEvent, EnqueueEvent, FenceEvent, LockSample } from './lease-checker.js';

export interface LeaseRecord {
  attempts: AttemptEvent[];
  fences: FenceEvent[];
  enqueues: EnqueueEvent[];
  locks: LockSample[];
  /** Redis TIME when the record was read. */
  end: number;
}

/** Redis TIME in ms. */
export async function redisNow(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

const NOTE = `local t = redis.call('TIME')
local e = cjson.decode(ARGV[1])
e.t = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('RPUSH', KEYS[1], cjson.encode(e))
return e.t`;

/** Notes a producer's enqueue and its answer (got = the jid Redis kept; == jid: accepted), stamped with Redis TIME. */
export async function noteEnqueue(redis: Redis, e: Omit<EnqueueEvent, 't'>): Promise<void> {
  await redis.eval(NOTE, 1, 'test:enqueues', JSON.stringify(e));
}

/** Samples a lock: reads `lockKey` and notes its holder with Redis TIME, in one script. */
export async function sampleLock(redis: Redis, key: string, lockKey: string): Promise<void> {
  await redis.eval(
    `local h = redis.call('GET', KEYS[1])
local t = redis.call('TIME')
redis.call('RPUSH', KEYS[2], cjson.encode({ key = ARGV[1], holder = h or nil, t = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) }))`,
    2,
    lockKey,
    'test:locks',
    key,
  );
}

export async function readLeaseRecord(redis: Redis): Promise<LeaseRecord> {
  const [attempts, recoveries, enqueues, locks, fleet] = await Promise.all(
    ['test:leases', 'verk:recoveries', 'test:enqueues', 'test:locks', 'verk:events'].map((k) => redis.lrange(k, 0, -1).then((l) => l.map((x) => JSON.parse(x)))),
  );
  const fences: FenceEvent[] = [
    ...(recoveries as { node: string; at: number }[]).map((r) => ({ node: r.node, t: Math.round(r.at * 1000) })),
    ...(fleet as { node: string; at: number; kind: string }[]).filter((e) => e.kind === 'fenced').map((e) => ({ node: e.node, t: e.at })),
  ];
  return { attempts: attempts as AttemptEvent[], fences, enqueues: enqueues as EnqueueEvent[], locks: locks as LockSample[], end: await redisNow(redis) };
}

/**
 * A Redis outage longer than the node TTL ends every lease: from `from + nodeTtlMs` (Redis TIME)
 * no node holds one, and the fencing it leads to may write no event (Redis is down). One fencing
 * per node that ran an attempt, at that instant.
 */
export function outageFences(attempts: AttemptEvent[], outages: { from: number; to: number }[], nodeTtlMs: number): FenceEvent[] {
  const nodes = [...new Set(attempts.map((a) => a.node))];
  return outages.filter((o) => o.to - o.from > nodeTtlMs).flatMap((o) => nodes.map((node) => ({ node, t: o.from + nodeTtlMs })));
}
