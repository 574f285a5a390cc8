// What the health server and metrics may read of a supervisor: a narrow, read-only view of its
// state, its worker processes, its leases and its counters (src/runner/supervisor.ts implements
// it; tests can fake it).
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Keys } from '../redis/keys.js';
import type { CronCounts } from '../core/duties/cron.js';
import type { ChildCounters } from './ipc.js';
import type { PoolChild } from './worker-pool.js';

export type SupervisorState = 'starting' | 'running' | 'quiet' | 'stopping' | 'stopped';

/** What the health server and metrics may read of a supervisor (nothing they could change). */
export interface SupervisorView {
  readonly state: SupervisorState;
  readonly config: Readonly<Config>;
  readonly redis: Redis;
  readonly keys: Keys;
  /** The Redis Cluster layout: one view per world, each read on its own connection (shard-group.ts). */
  shards?(): readonly SupervisorView[];
  /** Live worker processes. */
  workers(): readonly PoolChild[];
  /** Age of the oldest successful heartbeat among live nodes, ms. */
  heartbeatAge(): number;
  /** Time since the pool watch last ran, ms (the supervisor's own loop). */
  loopAge(): number;
  /** How long the supervisor has had fewer live worker processes than `processes`, ms (0 = none). */
  shortfallMs(): number;
  /** Job counters to sum: exited processes' and each live one's. */
  counters(): ChildCounters[];
  /** Jobs this supervisor handed back from exited processes or reaped from dead nodes. */
  readonly recovered: number;
  /** Redis's maxmemory-policy (read at start) and the warning it deserves, if any. */
  readonly evictionPolicy: string;
  readonly evictionWarning: string | undefined;
  /** New Redis servers seen (failovers, restarts) and what the pass after each repaired (failover-watch.ts). */
  readonly failover?: { readonly failovers: number; readonly repairs: Readonly<Record<string, number>> };
  /** Periodic jobs this supervisor decided: counts per entry, and the fire lags since the last read. */
  readonly cron?: { readonly counts: ReadonlyMap<string, CronCounts>; drainLags(): { entry: string; lagMs: number }[] };
  /** Unique locks this supervisor's sweeper released (their job existed nowhere). */
  readonly uniqueSweeper?: { readonly released: number };
  /** Cluster-wide limits: fixes the audit made (with correct scripts, none). */
  readonly limitAudit?: { readonly fixes: number };
}

/** The views whose connections and worker processes make up `sup`: its worlds' (shards()), else itself. */
export function viewsOf(sup: SupervisorView): readonly SupervisorView[] {
  return sup.shards?.() ?? [sup];
}
