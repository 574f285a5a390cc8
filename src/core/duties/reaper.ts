// Reaper duty: on every node, finds registered nodes whose heartbeat key is gone and hands
// their in-progress jobs back through the atomic reap script (DESIGN §4 step 4). Racing
// reapers are safe: each batch is one script, so every job moves exactly once.
import type { Config } from '../../config/schema.js';
import type { Scripts, ReapOptions, ReapResult } from '../../redis/scripts.js';
import { reapOptions } from '../../redis/reap-options.js';
import { nodeLiveness } from '../../redis/node-registry.js';
import type { Logger } from '../../util/logger.js';

export interface ReapReport extends ReapResult { node: string }

export class Reaper {
  constructor(
    private readonly scripts: Scripts,
    private readonly config: Config,
    private readonly log: Logger,
    /** Id written into the recovery history as the reaper. */
    private readonly by: string,
  ) {}

  options(node: string, force: boolean, countRecoveries = true): ReapOptions {
    return reapOptions(this.config, node, this.by, force, countRecoveries);
  }

  /** Node ids that are registered (or half-reaped) and whose heartbeat key is gone. */
  async deadNodes(): Promise<string[]> {
    return (await nodeLiveness(this.scripts.redis, this.scripts.keys)).dead;
  }

  /** One reaper pass over every dead node. */
  async tick(): Promise<ReapReport[]> {
    const reports: ReapReport[] = [];
    for (const node of await this.deadNodes()) {
      const r = await this.reapNode(node, false);
      if (r.status !== 'alive') reports.push(r);
    }
    return reports;
  }

  /**
   * Reaps one node to the end. `force` skips the heartbeat check: only for a node whose process
   * the caller saw die (its own child) or a fixed id taking back its earlier incarnation's jobs.
   */
  async reapNode(node: string, force: boolean, countRecoveries = true, _startedIds: string[] = []): Promise<ReapReport> {
    const r = await this.scripts.reapAll(this.options(node, force, countRecoveries));
    if (r.moved + r.buried > 0) {
      this.log.warn('recovered jobs of a dead node', { node, by: this.by, requeued: r.moved, dead: r.buried });
    }
    return { node, ...r };
  }
}
