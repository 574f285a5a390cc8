// Processed/failed per UTC day, Sidekiq's Stats::History: stat:processed:<YYYY-MM-DD> and
// stat:failed:<YYYY-MM-DD>, written by each `verk work` supervisor on its beat (and by Sidekiq).
// One MGET for all the days, counted back from today on Redis's clock.
import { redisNow, type AdminContext } from './admin-context.js';

export interface DayStats {
  /** YYYY-MM-DD (UTC). */
  date: string;
  processed: number;
  failed: number;
}

export async function dailyHistory(ctx: AdminContext, days: number): Promise<DayStats[]> {
  const today = Math.floor((await redisNow(ctx.redis)) / 86_400) * 86_400_000;
  const dates = Array.from({ length: days }, (_, i) => new Date(today - i * 86_400_000).toISOString().slice(0, 10));
  const values = await ctx.redis.mget(...dates.flatMap((d) => [ctx.keys.processedOn(d), ctx.keys.failedOn(d)]));
  return dates.map((date, i) => ({ date, processed: int(values[2 * i]), failed: int(values[2 * i + 1]) })).reverse();
}

function int(v: string | null): number {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}
