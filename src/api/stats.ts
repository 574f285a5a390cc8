// Cluster totals for `verk stats`: processed/failed counters (total and per queue, verk's
// stat:<x>:<queue> keys), queue sizes, sizes of retry/schedule/dead, live verk nodes (registered
// in verk_nodes and their heartbeat key present), jobs busy on them, Sidekiq processes listed,
// and Redis's eviction policy with a warning when it can delete jobs (src/redis/eviction.ts).
import type { AdminContext } from './admin-context.js';
import { evictionWarning, readEvictionPolicy } from '../redis/eviction.js';
import { heartbeatsAlive } from '../redis/node-registry.js';
import { listProcesses } from './processes.js';
import { listQueues } from './queues.js';

export interface QueueStats {
  name: string;
  processed: number;
  failed: number;
  size: number;
}

export interface Stats {
  processed: number;
  failed: number;
  /** Jobs waiting in all queues. */
  enqueued: number;
  retry: number;
  schedule: number;
  dead: number;
  /** verk nodes (worker processes) whose heartbeat key exists. */
  nodes: number;
  /** Jobs running now on live verk nodes (sum of `busy` in verk:node:<id>:info). */
  busy: number;
  /** Live members of Sidekiq's `processes` set (verk supervisors and Sidekiq processes); dead ones are pruned. */
  processes: number;
  queues: QueueStats[];
  redis: { maxmemory_policy: string };
  /** Problems an operator should fix (e.g. an evicting Redis); empty when none. */
  warnings: string[];
}

export async function readStats(ctx: AdminContext): Promise<Stats> {
  const { redis, keys } = ctx;
  const [processed, failed, retry, schedule, dead, processes, queues, nodes, policy] = await Promise.all([
    redis.get(keys.processed()),
    redis.get(keys.failed()),
    redis.zcard(keys.retry),
    redis.zcard(keys.schedule),
    redis.zcard(keys.dead),
    listProcesses(ctx).then((p) => p.length),
    listQueues(ctx),
    liveNodes(ctx),
    readEvictionPolicy(redis),
  ]);
  const eviction = evictionWarning(policy);
  const perQueue = await Promise.all(
    queues.map(async (q) => {
      const [p, f] = await Promise.all([redis.get(keys.processed(q.name)), redis.get(keys.failed(q.name))]);
      return { name: q.name, processed: int(p), failed: int(f), size: q.size };
    }),
  );
  return {
    processed: int(processed),
    failed: int(failed),
    enqueued: queues.reduce((n, q) => n + q.size, 0),
    retry,
    schedule,
    dead,
    nodes: nodes.length,
    busy: nodes.reduce((n, x) => n + x.busy, 0),
    processes,
    queues: perQueue,
    redis: { maxmemory_policy: policy },
    warnings: eviction ? [eviction] : [],
  };
}

/** Registered verk nodes whose heartbeat key exists, with their busy count. */
export async function liveNodes(ctx: AdminContext): Promise<{ id: string; busy: number }[]> {
  const ids = await ctx.redis.smembers(ctx.keys.nodes);
  const alive = await heartbeatsAlive(ctx.redis, ctx.keys, ids);
  const live = ids.filter((id) => alive.get(id));
  const busy = await Promise.all(live.map((id) => ctx.redis.hget(ctx.keys.nodeInfo(id), 'busy')));
  return live.map((id, i) => ({ id, busy: int(busy[i]) }));
}

function int(v: string | null): number {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}
