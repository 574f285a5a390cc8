// Job counters of one `verk work`: the totals of worker processes that have exited plus what
// the live ones report in their pongs (each live process reports its own running totals).
import { backoffMs } from '../util/sleep.js';
import type { ChildCounters } from './ipc.js';
import type { RedisEvent } from '../redis/failover-stats.js';

export function emptyCounters(): ChildCounters {
  return { processed: 0, failed: 0, retried: 0, dead: 0, dropped: 0, rejected: 0, perQueue: {} };
}

const TOTAL_KEYS = ['processed', 'failed', 'retried', 'dead', 'dropped', 'rejected'] as const;
const QUEUE_KEYS = ['processed', 'failed', 'retried', 'dead', 'dropped'] as const;

export class JobTotals {
  /** Totals of worker processes that have exited. */
  readonly past: ChildCounters = emptyCounters();

  addExited(c: ChildCounters | undefined): void {
    if (!c) return;
    const p = this.past;
    for (const k of TOTAL_KEYS) p[k] += c[k];
    for (const [e, n] of Object.entries(c.redis ?? {}) as [RedisEvent, number][]) (p.redis ??= {})[e] = (p.redis[e] ?? 0) + n;
    for (const [q, v] of Object.entries(c.perQueue)) {
      const t = (p.perQueue[q] ??= { processed: 0, failed: 0 });
      for (const k of QUEUE_KEYS) t[k] = (t[k] ?? 0) + (v[k] ?? 0);
    }
  }

  /** Every counter set to sum: exited processes' and each live one's. */
  all(live: Iterable<{ counters?: ChildCounters }>): ChildCounters[] {
    const out = [this.past];
    for (const c of live) if (c.counters) out.push(c.counters);
    return out;
  }
}

/**
 * Crash-loop protection: replacements start at once unless processes keep dying; from the 4th
 * death within 30 s the delay doubles from 500 ms up to 10 s.
 */
export class CrashLoopBackoff {
  private deaths: number[] = [];

  constructor(private readonly now: () => number) {}

  /** Records a death and returns how long to wait before the replacement. */
  died(): number {
    const t = this.now();
    this.deaths = this.deaths.filter((d) => t - d < 30_000);
    this.deaths.push(t);
    const n = this.deaths.length;
    return n <= 3 ? 0 : backoffMs(n - 3, 250, 10_000);
  }
}
