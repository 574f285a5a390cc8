// Reconcile after a failover (docs/redis-ha.md): the supervisor notes the server it talks to
// (INFO server run_id) at every connect; on a new one (a failover, or a restart) it makes one
// pass for its own worker processes, counted and logged once. A promoted replica holds a past
// state of the old primary (replication keeps the order of writes), so what a failover leaves
// wrong is what processes believe and the new primary missed: a registration it never received
// (re-registered here, unless a recovery event shows the node was reaped: then the refused
// heartbeat fences it, as designed), fetches and acks it never received (each queue worker's
// reconcile after its reconnect: src/core/reconcile.ts), a reap it never received (the reaper
// reaps again at its next pass), and lists of jobs of nodes that are gone, which no reaper visits
// (handed back when a verk node surely left them: src/runner/failover-orphans.ts).
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { FAILOVER } from '../config/defaults.js';
import type { Scripts } from '../redis/scripts.js';
import type { Logger } from '../util/logger.js';
import { withTimeout } from '../util/timeout.js';
import { nodesNamedIn, requeueFailoverOrphans } from './failover-orphans.js';

export interface FailoverWatchDeps {
  redis: Redis;
  scripts: Scripts;
  config: Config;
  log: Logger;
  /** Node ids of the live worker processes. */
  nodes(): string[];
  /** Registers a live node again (the supervisor's own registration call). */
  register(id: string): Promise<void>;
  now?(): number;
}

export type FailoverRepairs = {
  /** Live nodes whose registration the new primary did not have, registered again. */
  reregistered: number;
  /** Live nodes missing on the new primary that a recovery event shows were reaped: left to fencing. */
  reaped: number;
  /** Jobs handed back from in-progress and claim lists of verk nodes that are gone (neither registered nor alive). */
  orphaned: number;
  /** Such in-progress lists left to `verk stuck --requeue-orphans`: nothing shows a verk node wrote them (a fixed-id Elixir node's look the same). */
  unowned: number;
};

export class FailoverWatch {
  /** New servers seen after the first (failovers, restarts). */
  failovers = 0;
  readonly repairs: FailoverRepairs = { reregistered: 0, reaped: 0, orphaned: 0, unowned: 0 };
  /** run_id of the server last connected to. */
  serverId: string | undefined;
  private lastFailoverAt = -Infinity;
  private checking: Promise<boolean> | undefined;

  constructor(private readonly d: FailoverWatchDeps) {}

  /** Checks at every (re)connect of the supervisor's connection. */
  attach(): void {
    this.d.redis.on('ready', () => void this.tick().catch(() => undefined));
  }

  /** Reads the server's run_id; on a new server, runs the repair pass. True when a pass ran. */
  tick(): Promise<boolean> {
    this.checking ??= this.check().finally(() => (this.checking = undefined));
    return this.checking;
  }

  /**
   * A node's heartbeat was refused (its registration is gone): true when that is a failover's
   * doing and the node was registered again, false when it is to be fenced (reaped, or no failover).
   */
  async keepAfterRefusal(id: string): Promise<boolean> {
    await this.tick().catch(() => undefined);
    if (this.now() - this.lastFailoverAt > 2 * this.d.config.nodeTtl) return false;
    // Kept when registered now: again by this call, or by the pass on the new server that the
    // refused beat raced with (only this supervisor registers its live ids).
    const reaped = await this.repairNodes([id]).catch(() => undefined);
    return reaped !== undefined && !reaped.has(id);
  }

  private now(): number {
    return this.d.now?.() ?? Date.now();
  }

  private async check(): Promise<boolean> {
    const text = await withTimeout(this.d.redis.info('server'), this.d.config.redisCommandTimeout);
    const runId = /^run_id:(\w+)/m.exec(text)?.[1];
    if (!runId) return false;
    const before = this.serverId;
    this.serverId = runId;
    if (before === undefined || before === runId) return false;
    this.failovers++;
    this.lastFailoverAt = this.now();
    const was = { ...this.repairs };
    await this.repairNodes(this.d.nodes());
    const orphans = await this.repairOrphans();
    this.d.log.warn('Redis is a new server (failover or restart): reconciled this supervisor’s nodes with it', {
      run_id: runId,
      nodes: this.d.nodes().length,
      reregistered: this.repairs.reregistered - was.reregistered,
      reaped: this.repairs.reaped - was.reaped,
      orphaned: this.repairs.orphaned - was.orphaned,
      ...orphans,
    });
    return true;
  }

  /** Hands back the lists of nodes that are gone; what it left and why goes into the pass's log line. */
  private async repairOrphans(): Promise<Record<string, unknown>> {
    try {
      const r = await requeueFailoverOrphans(this.d.scripts, this.d.config, new Set(this.d.nodes()));
      this.repairs.orphaned += r.requeued;
      this.repairs.unowned += r.left.length;
      return {
        orphan_lists: r.lists,
        ...(r.left.length ? { unowned_lists: r.left.slice(0, 10).map((l) => l.key), unowned: r.left.length, hint: 'verk stuck --requeue-orphans' } : {}),
        ...(r.complete ? {} : { orphan_search: 'cut short by its bound: see verk stuck' }),
      };
    } catch (err) {
      return { orphan_search: `failed: ${(err as Error).message}` };
    }
  }

  /** Registers again each of `ids` the server does not know, unless it was reaped. Returns those reaped (left to fencing). */
  private async repairNodes(ids: string[]): Promise<Set<string>> {
    const left = new Set<string>();
    if (ids.length === 0) return left;
    const k = this.d.scripts.keys;
    const pipe = this.d.redis.pipeline();
    // Registered with its heartbeat key expired: the next heartbeat renews it (or a reaper is quicker).
    for (const id of ids) pipe.sismember(k.nodes, id);
    const res = (await withTimeout(pipe.exec(), this.d.config.redisCommandTimeout)) ?? [];
    const missing = ids.filter((_, i) => res[i] && !res[i][0] && Number(res[i][1]) !== 1);
    if (missing.length === 0) return left;
    // Nodes named by the newest recovery events (a reap that moved jobs writes one).
    const reaped = await withTimeout(nodesNamedIn(this.d.redis, this.d.scripts.keys.recoveries, FAILOVER.historyChecked), this.d.config.redisCommandTimeout);
    for (const id of missing) {
      if (reaped.has(id)) {
        this.repairs.reaped++;
        left.add(id);
        continue;
      }
      await this.d.register(id);
      this.repairs.reregistered++;
    }
    return left;
  }
}
