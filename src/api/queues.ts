// Queue overview: every known queue with its size, latency and paused flag. Known = Sidekiq's
// `queues` set, plus `queue:*` lists written without it (Elixir verk never SADDs), plus paused
// names. Latency is Sidekiq's: now - enqueued_at of the oldest job (index -1), on Redis's clock.
import { toSeconds } from '../job/codec.js';
import { redisNow, type AdminContext } from './admin-context.js';
import { pausedQueues } from './pause.js';

export interface QueueInfo {
  name: string;
  size: number;
  /** Seconds the oldest job has waited; 0 when the queue is empty or its enqueued_at is unknown. */
  latency: number;
  paused: boolean;
  /** A limited queue's jobs parked behind full or rate-limited keys (not in `size`; docs/limits.md); absent for other queues. */
  parked?: number;
}

export async function queueNames(ctx: AdminContext): Promise<string[]> {
  const names = new Set(await ctx.redis.smembers(ctx.keys.queues));
  const listPrefix = ctx.keys.queue('');
  let cursor = '0';
  do {
    const [next, found] = await ctx.redis.scan(cursor, 'MATCH', `${globEscape(listPrefix)}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of found) names.add(k.slice(listPrefix.length));
  } while (cursor !== '0');
  return [...names].sort();
}

/**
 * Whether anyone ever used `queue`: in `queues`, a `queue:<q>` list, paused, processed/failed
 * counters, or a registered verk node fetches from it. `known` lists the names that exist.
 */
export async function queueUsage(ctx: AdminContext, queue: string): Promise<{ used: boolean; known: string[] }> {
  const { redis, keys } = ctx;
  const nodes = await redis.smembers(keys.nodes);
  const [inQueues, list, paused, counters, ...fetchedBy] = await Promise.all([
    redis.sismember(keys.queues, queue),
    redis.exists(keys.queue(queue)),
    redis.sismember(keys.paused, queue),
    redis.exists(keys.processed(queue), keys.failed(queue)),
    ...nodes.map((id) => redis.sismember(keys.nodeQueues(id), queue)),
  ]);
  const used = inQueues + list + paused + counters + fetchedBy.reduce((a, b) => a + b, 0) > 0;
  const known = used ? [] : [...new Set([...(await queueNames(ctx)), ...(await pausedQueues(ctx))])].sort();
  return { used, known };
}

export async function listQueues(ctx: AdminContext): Promise<QueueInfo[]> {
  const paused = new Set(await pausedQueues(ctx));
  // Limited queues (recorded by the nodes in verk:limits) also count their parked jobs.
  const limited = new Set(await ctx.redis.hkeys(ctx.keys.limits));
  const names = [...new Set([...(await queueNames(ctx)), ...paused, ...limited])].sort();
  const now = await redisNow(ctx.redis);
  return Promise.all(
    names.map(async (name) => {
      const [size, oldest] = await Promise.all([ctx.redis.llen(ctx.keys.queue(name)), ctx.redis.lindex(ctx.keys.queue(name), -1)]);
      const info: QueueInfo = { name, size, latency: latencyOf(oldest, now), paused: paused.has(name) };
      if (limited.has(name)) info.parked = await parkedJobs(ctx, name);
      return info;
    }),
  );
}

/** Jobs parked in a limited queue: the lengths of its keys' parked lists (at most 1 000 keys read). */
export async function parkedJobs(ctx: AdminContext, queue: string): Promise<number> {
  const keys = await ctx.redis.srandmember(ctx.keys.limitKeys(queue), 1000);
  if (keys.length === 0) return 0;
  const pipe = ctx.redis.pipeline();
  for (const key of keys) pipe.llen(ctx.keys.limitParked(queue, key));
  return ((await pipe.exec()) ?? []).reduce((n, [, v]) => n + Number(v ?? 0), 0);
}

export function latencyOf(oldest: string | null, nowS: number): number {
  if (!oldest) return 0;
  let enqueuedAt: number | undefined;
  try {
    enqueuedAt = toSeconds((JSON.parse(oldest) as Record<string, unknown>)?.enqueued_at);
  } catch {
    return 0;
  }
  return enqueuedAt === undefined ? 0 : Math.max(0, round3(nowS - enqueuedAt));
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** `s` escaped for a SCAN/ZSCAN MATCH pattern. */
export function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
