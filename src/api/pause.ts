// Cluster-wide pause of a queue: its name in the `verk:paused` set. Every node's fetch script
// refuses a paused queue (lua/fetch-5.lua) and re-checks it every 500 ms; running jobs finish.
import type { AdminContext } from './admin-context.js';

export interface PauseResult {
  queue: string;
  paused: boolean;
  /** false when the queue already was in the requested state. */
  changed: boolean;
}

export async function pauseQueue(ctx: AdminContext, queue: string): Promise<PauseResult> {
  const added = await ctx.redis.sadd(ctx.keys.paused, queue);
  return { queue, paused: true, changed: added === 1 };
}

export async function resumeQueue(ctx: AdminContext, queue: string): Promise<PauseResult> {
  const removed = await ctx.redis.srem(ctx.keys.paused, queue);
  return { queue, paused: false, changed: removed === 1 };
}

export async function pausedQueues(ctx: AdminContext): Promise<string[]> {
  return (await ctx.redis.smembers(ctx.keys.paused)).sort();
}

export async function isPaused(ctx: AdminContext, queue: string): Promise<boolean> {
  return (await ctx.redis.sismember(ctx.keys.paused, queue)) === 1;
}
