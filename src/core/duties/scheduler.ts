// Scheduler duty: moves due `schedule` and `retry` entries to their queues, one atomic script
// per batch, on every node. An entry with no usable queue goes to `dead` with an explanation.
import type { Config } from '../../config/schema.js';
import { decodeJob, markEnqueued } from '../../job/codec.js';
import { patchJson } from '../../job/raw-json.js';
import type { Scripts } from '../../redis/scripts.js';
import type { Logger } from '../../util/logger.js';

// Wider than the config's rule on purpose: a foreign producer's queue name with ':' is routed,
// not buried; only a name no key could be built from goes to dead.
const ROUTABLE_QUEUE = /^[A-Za-z0-9_.\-:]+$/;

export interface PromoteTotals { queued: number; dead: number }

export class Scheduler {
  constructor(private readonly scripts: Scripts, private readonly config: Config, private readonly log: Logger) {}

  /** Promotes everything due now from both sets (batch after batch). */
  async tick(nowMs = Date.now()): Promise<PromoteTotals> {
    const totals = { queued: 0, dead: 0 };
    for (const set of ['retry', 'schedule'] as const) {
      for (;;) {
        const r = await this.promoteBatch(set, nowMs / 1000);
        totals.queued += r.queued;
        totals.dead += r.dead;
        if (r.seen < this.config.schedulerBatch) break;
      }
    }
    return totals;
  }

  private async promoteBatch(set: 'schedule' | 'retry', nowS: number): Promise<PromoteTotals & { seen: number }> {
    const { scripts, config } = this;
    const members = await scripts.redis.zrangebyscore(scripts.keys[set], '-inf', nowS, 'LIMIT', 0, config.schedulerBatch);
    if (members.length === 0) return { queued: 0, dead: 0, seen: 0 };
    const entries = members.map((member) => this.route(set, member, nowS)).map((e) => ({ ...e, member: Buffer.from(e.member) }));
    const r = await scripts.promote(set, nowS, entries);
    if (r.dead > 0) this.log.warn(`moved ${r.dead} unroutable ${set} entries to dead`, { set });
    return { ...r, seen: members.length };
  }

  /** Where one due entry goes: its queue with a fresh enqueued_at, or dead with the reason. */
  private route(set: string, member: string, nowS: number): { member: string; payload: string; queue: string } {
    const decoded = decodeJob(member, 'default');
    if (!decoded.ok) {
      this.log.error(`malformed ${set} entry moved to dead as its raw string`, { error: decoded.error, preview: member.slice(0, 200) });
      return { member, payload: member, queue: '' };
    }
    const q = decoded.job.data.queue;
    if (q !== undefined && q !== null && (typeof q !== 'string' || !ROUTABLE_QUEUE.test(q))) {
      const reason = `${set} entry has no usable queue (${JSON.stringify(q)})`;
      this.log.error(`${reason}; moved to dead`, { jid: decoded.job.jid });
      return {
        member,
        payload: patchJson(member, { error_class: 'Verk::UnroutableJob', error_message: reason, failed_at: nowS }),
        queue: '',
      };
    }
    return { member, payload: markEnqueued(member, nowS), queue: decoded.job.queue };
  }
}
