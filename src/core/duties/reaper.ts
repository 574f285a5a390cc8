// Reaper duty: finds dead nodes and hands their in-progress jobs back through the atomic reap
// script (docs/reliability.md, "Finding dead nodes" and "Detection and recovery"). Work is
// proportional to the fleet's size once per interval, cluster-wide, not once per node: the
// supervisor that takes the short reaper lock (SET NX PX) this interval sweeps the registry
// onto the schedule (node-sweep) and checks only the nodes due (reap-scan), a live node about
// once per nodeTtl. Racing reapers (a lock that expired mid-pass, `verk reap`) are safe: each
// batch is one script, so every job moves exactly once.
import type { Config } from '../../config/schema.js';
import { REAPER } from '../../config/defaults.js';
import type { Scripts, ReapOptions, ReapResult } from '../../redis/scripts.js';
import { reapOptions } from '../../redis/reap-options.js';
import type { Logger } from '../../util/logger.js';

export interface ReapReport extends ReapResult {
  node: string;
}

export class Reaper {
  /** The last pass: whether this supervisor held the lock, nodes checked, registered nodes swept. */
  last = { locked: false, checked: 0, swept: 0, added: 0 };

  constructor(
    private readonly scripts: Scripts,
    private readonly config: Config,
    private readonly log: Logger,
    /** Id written into the recovery history as the reaper (and into the reaper lock). */
    private readonly by: string,
  ) {}

  options(node: string, force: boolean, countRecoveries = true, startedIds: string[] = []): ReapOptions {
    return { ...reapOptions(this.config, node, this.by, force, countRecoveries), startedIds };
  }

  /** How long the lock is held: less than the shortest gap between two ticks (interval - 20% jitter). */
  get lockMs(): number {
    return Math.max(1, Math.floor(this.config.reaperInterval * REAPER.lockShare));
  }

  /** One reaper round: a pass if this supervisor takes the lock for this interval, else nothing. */
  async tick(): Promise<ReapReport[]> {
    const got = await this.scripts.redis.set(this.scripts.keys.reaperLock, this.by, 'PX', this.lockMs, 'NX');
    this.last = { locked: got === 'OK', checked: 0, swept: 0, added: 0 };
    if (got !== 'OK') return [];
    return this.pass();
  }

  /** Sweeps the registry onto the schedule, then reaps every node found dead (no lock). */
  async pass(): Promise<ReapReport[]> {
    await this.sweep();
    const reports: ReapReport[] = [];
    let failed: unknown;
    for (const node of await this.deadNodes()) {
      try {
        const r = await this.reapNode(node, false);
        if (r.status !== 'alive') reports.push(r);
      } catch (err) {
        // One node's failure (Redis refused the script) must not keep the others unreaped.
        failed ??= err;
        this.log.error('reap failed; nothing of this batch was written, retried at the next pass', { node, error: (err as Error).message });
      }
    }
    if (failed !== undefined && reports.length === 0) throw failed;
    return reports;
  }

  /** Puts registered nodes missing from the schedule on it (Elixir verk nodes, lost entries). */
  async sweep(): Promise<void> {
    let cursor = '0';
    for (let page = 0; page < REAPER.maxSweepPages; page++) {
      const r = await this.scripts.nodeSweep(cursor, REAPER.sweepPage);
      this.last.swept += r.seen;
      this.last.added += r.added;
      cursor = r.cursor;
      if (cursor === '0') return;
    }
  }

  /** Nodes due on the schedule whose heartbeat key is gone (bounded per pass; the rest wait). */
  async deadNodes(): Promise<string[]> {
    const dead: string[] = [];
    for (let call = 0; call < REAPER.maxScanCalls; call++) {
      const r = await this.scripts.reapScan(REAPER.scanBatch, this.config.reaperInterval);
      this.last.checked += r.checked;
      dead.push(...r.dead);
      if (!r.more) break;
    }
    return [...new Set(dead)];
  }

  /**
   * Reaps one node to the end. `force` skips the heartbeat check: only for a node whose process
   * the caller saw die (its own child) or a fixed id taking back its earlier incarnation's jobs.
   * `startedIds`: identities (payloadIdentity) of jobs the caller knows had started on the node
   * (its crashed child's last report); only started jobs count toward a poison pill.
   */
  async reapNode(node: string, force: boolean, countRecoveries = true, startedIds: string[] = []): Promise<ReapReport> {
    const r = await this.scripts.reapAll(this.options(node, force, countRecoveries, startedIds));
    if (r.status === 'wrongtype') {
      this.log.error('cannot reap a dead node: a key it would write holds the wrong type; nothing was moved', { node, key: r.wrongKey });
    }
    if (r.moved + r.buried > 0) {
      this.log.warn('recovered jobs of a dead node', { node, by: this.by, requeued: r.moved, dead: r.buried, unstarted: r.unstarted });
    }
    return { node, ...r };
  }
}
