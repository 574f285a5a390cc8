// The one shape of every periodic duty the supervisor runs (heartbeat, pool watch, reaper,
// scheduler, Sidekiq registry): a name, an interval with jitter, and a tick() that does one
// round and returns a small report of counts for logs and metrics. The runner (src/runner/
// duty-runner.ts) runs each on a Ticker and reports errors in one place; tests call tick().
//
// Adding a duty: one file implementing Duty, plus one line in src/runner/duties.ts#buildDuties.

/** Counts of what one tick did (e.g. { moved: 3, nodes: 1 }); empty when it did nothing. */
export type DutyReport = Record<string, number>;

export interface Duty {
  readonly name: string;
  /** Time between the end of one tick and the start of the next, in ms. */
  readonly intervalMs: number;
  /** Fraction of the interval added or removed at random each round (0.2 = ±20%). */
  readonly jitter: number;
  /** Wait one interval before the first tick (default: tick at once). */
  readonly delayFirst?: boolean;
  tick(): Promise<DutyReport>;
}

/** Sums the numeric fields of reports (for "moved N jobs in this pass"). */
export function addReports(into: DutyReport, r: DutyReport): DutyReport {
  for (const [k, v] of Object.entries(r)) into[k] = (into[k] ?? 0) + v;
  return into;
}
