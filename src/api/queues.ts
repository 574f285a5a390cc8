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
  const names = [...new Set([...(await queueNames(ctx)), ...paused])].sort();
  const now = await redisNow(ctx.redis);
  return Promise.all(
    names.map(async (name) => {
      const [size, oldest] = await Promise.all([ctx.redis.llen(ctx.keys.queue(name)), ctx.redis.lindex(ctx.keys.queue(name), -1)]);
      return { name, size, latency: latencyOf(oldest, now), paused: paused.has(name) };
    }),
  );
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
