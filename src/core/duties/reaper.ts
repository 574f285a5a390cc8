// Reaper duty: on every node, finds registered nodes whose heartbeat key is gone and hands
// their in-progress jobs back through the atomic reap script (docs/reliability.md, "Detection and recovery"). Racing
// reapers are safe: each batch is one script, so every job moves exactly once.
import type { Config } from '../../config/schema.js';
import type { Scripts, ReapOptions, ReapResult } from '../../redis/scripts.js';
import { reapOptions } from '../../redis/reap-options.js';
import { nodeLiveness } from '../../redis/node-registry.js';
import type { Logger } from '../../util/logger.js';

export interface ReapReport extends ReapResult {
  node: string;
}

export class Reaper {
  constructor(
    private readonly scripts: Scripts,
    private readonly config: Config,
    private readonly log: Logger,
    /** Id written into the recovery history as the reaper. */
    private readonly by: string,
  ) {}

  options(node: string, force: boolean, countRecoveries = true, startedIds: string[] = []): ReapOptions {
    return { ...reapOptions(this.config, node, this.by, force, countRecoveries), startedIds };
  }

  /** Node ids that are registered (or half-reaped) and whose heartbeat key is gone. */
  async deadNodes(): Promise<string[]> {
    return (await nodeLiveness(this.scripts.redis, this.scripts.keys)).dead;
  }

  /** One reaper pass over every dead node. */
  async tick(): Promise<ReapReport[]> {
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
