// Sidekiq's daily counters (`stat:processed:<YYYY-MM-DD>`, `stat:failed:<YYYY-MM-DD>`, UTC) for
// one `verk work`, flushed off the hot path on the Sidekiq registry's beat as Sidekiq's Launcher
// does in its heartbeat: the supervisor already learns each worker process's totals over IPC
// (job-totals.ts); this keeps what Redis has confirmed and says what to send next.
// The flush sends cumulative totals, not deltas, and the script adds only what it has not added
// before (lua/flush-daily-stats-3.lua): a flush that failed is simply covered by the next one
// (never lost), and one that was applied with its reply lost, or resent by the client after a
// reconnect, is not counted twice.
import type { DailyTotals } from '../redis/scripts.js';
import type { ChildCounters } from './ipc.js';

/** Sidekiq's Launcher::STATS_TTL: daily counters live 5 years. */
export const STATS_TTL_S = 5 * 365 * 24 * 60 * 60;
/**
 * How long Redis keeps what a supervisor has added (refreshed by every flush). Only a flush
 * stuck in a client's queue for longer than this, then applied twice, could count twice.
 */
export const FLUSH_RECORD_TTL_S = 24 * 60 * 60;

/** Executions (successes + failures, as Sidekiq counts `processed`) and failures, summed. */
export function dailyTotals(counters: Iterable<ChildCounters>): DailyTotals {
  const t = { processed: 0, failed: 0 };
  for (const c of counters) {
    t.processed += c.processed + c.failed;
    t.failed += c.failed;
  }
  return t;
}

/** The UTC date of `ms` as Sidekiq names its daily keys (Time.now.utc.strftime("%Y-%m-%d")). */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** What has been added to the daily counters, as far as Redis has confirmed. */
export class DailyStatsBook {
  private added: DailyTotals = { processed: 0, failed: 0 };

  get confirmed(): DailyTotals {
    return { ...this.added };
  }

  /** The totals to flush now, or undefined when Redis already has them all. */
  due(current: DailyTotals): DailyTotals | undefined {
    return current.processed > this.added.processed || current.failed > this.added.failed ? { ...current } : undefined;
  }

  /** Redis's reply to a flush: what it holds as added (never moves back: a late reply is older). */
  confirm(reply: DailyTotals): void {
    this.added = { processed: Math.max(this.added.processed, reply.processed), failed: Math.max(this.added.failed, reply.failed) };
  }
}
