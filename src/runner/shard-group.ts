// `verk work` in the Redis Cluster layout (docs/redis-cluster.md): one Supervisor per queue world
// (src/config/shard-worlds.ts), each with its own worker processes, duties and connections pinned
// to the master of its world's slot. The group is what the health server, the metrics and the
// signal handlers see: started and stopped together, its state the least ready of its members,
// its counters the sum.
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { World } from '../config/shard-worlds.js';
import type { CronCounts } from '../core/duties/cron.js';
import type { Keys } from '../redis/keys.js';
import type { Logger } from '../util/logger.js';
import type { ChildCounters } from './ipc.js';
import type { StopTarget } from './signals.js';
import { Supervisor } from './supervisor.js';
import type { SupervisorState, SupervisorView } from './supervisor-view.js';
import type { PoolChild } from './worker-pool.js';

/** Least ready first: the group is as ready as its least ready member. */
const ORDER: SupervisorState[] = ['stopped', 'stopping', 'starting', 'quiet', 'running'];

export class ShardGroup implements SupervisorView, StopTarget {
  readonly members: Supervisor[];
  /** The user's config, `processes` counted over every world (what the probes compare with). */
  readonly config: Readonly<Config>;

  constructor(base: Readonly<Config>, worlds: World[], log: Logger) {
    this.members = worlds.map((w) => new Supervisor(w.config as Config, log.child({ shard: w.queue })));
    this.config = Object.freeze({ ...base, processes: base.processes * worlds.length });
  }

  get state(): SupervisorState {
    return ORDER[Math.min(...this.members.map((m) => ORDER.indexOf(m.state)))];
  }

  /** The first world's connection; readiness and metrics ask every member (shards()). */
  get redis(): Redis {
    return this.members[0].redis;
  }

  get keys(): Keys {
    return this.members[0].keys;
  }

  shards(): SupervisorView[] {
    return this.members;
  }

  get pool() {
    return { killAll: (signal: NodeJS.Signals) => this.members.forEach((m) => m.pool.killAll(signal)) };
  }

  async start(): Promise<void> {
    await Promise.all(this.members.map((m) => m.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }

  quiet(): void {
    for (const m of this.members) m.quiet();
  }

  workers(): readonly PoolChild[] {
    return this.members.flatMap((m) => m.workers());
  }

  heartbeatAge(): number {
    return Math.max(...this.members.map((m) => m.heartbeatAge()));
  }

  loopAge(): number {
    return Math.max(...this.members.map((m) => m.loopAge()));
  }

  shortfallMs(): number {
    return Math.max(...this.members.map((m) => m.shortfallMs()));
  }

  counters(): ChildCounters[] {
    return this.members.flatMap((m) => m.counters());
  }

  get recovered(): number {
    return this.members.reduce((n, m) => n + m.recovered, 0);
  }

  get evictionPolicy(): string {
    return [...new Set(this.members.map((m) => m.evictionPolicy))].join(',');
  }

  get evictionWarning(): string | undefined {
    return this.members.map((m) => m.evictionWarning).find(Boolean);
  }

  get failover() {
    const repairs: Record<string, number> = {};
    let failovers = 0;
    for (const m of this.members) {
      failovers += m.failover.failovers;
      for (const [k, n] of Object.entries(m.failover.repairs)) repairs[k] = (repairs[k] ?? 0) + n;
    }
    return { failovers, repairs };
  }

  get cron() {
    const counts = new Map<string, CronCounts>();
    for (const m of this.members) for (const [k, v] of m.cron.counts) counts.set(k, v);
    return { counts, drainLags: () => this.members.flatMap((m) => m.cron.drainLags()) };
  }

  get uniqueSweeper() {
    return { released: this.members.reduce((n, m) => n + m.uniqueSweeper.released, 0) };
  }

  get limitAudit() {
    return { fixes: this.members.reduce((n, m) => n + m.limitAudit.fixes, 0) };
  }
}
