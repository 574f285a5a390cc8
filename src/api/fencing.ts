// Fencing rejections for the web dashboard: verk:stat:fenced counts the writes (ack, retry,
// fail) refused because the writing node no longer held the job — it had been reaped while
// still alive (paused, partitioned) and its jobs recovered, so its late results were not applied.
import type { AdminContext } from './admin-context.js';

export async function fencingRejections(ctx: AdminContext): Promise<number> {
  const n = Number((await ctx.redis.get(ctx.keys.fenced)) ?? 0);
  return Number.isFinite(n) ? n : 0;
}
