// Scheduler duty: moves due `schedule` and `retry` entries to their queues, one atomic script
// per batch, on every node. An entry with no usable queue goes to `dead` with an explanation;
// one that cannot be decoded (invalid JSON or UTF-8) goes there as its exact bytes. Members are
// read as bytes, and a tick ends when a batch moved nothing or after MAX_BATCHES_PER_TICK, so
// the loop can never spin on entries it cannot move.
// Fleet-wide, the sets are polled about once per schedulerInterval whatever the fleet's size:
// like Sidekiq's scheduler, each supervisor waits a random interval averaging
// schedulerInterval × (supervisors in `processes`), read with each poll.
import type { Config } from '../../config/schema.js';
import { FLEET } from '../../config/defaults.js';
import { decodeJob, markEnqueued } from '../../job/codec.js';
import { patchJson } from '../../job/raw-json.js';
import { ERROR_CLASS } from '../../job/error-classes.js';
import type { PromoteEntry, Scripts } from '../../redis/scripts.js';
import type { Logger } from '../../util/logger.js';
import type { Duty } from './duty.js';

// Wider than the config's rule on purpose: a foreign producer's queue name with ':' is routed,
// not buried; only a name no key could be built from goes to dead.
const ROUTABLE_QUEUE = /^[A-Za-z0-9_.\-:]+$/;

/** Batches one set may promote in one tick; what is left waits for the next tick. */
export const MAX_BATCHES_PER_TICK = 100;

export type PromoteTotals = { queued: number; dead: number };

/**
 * One supervisor's wait before its next poll, so that `fleet` supervisors together poll about
 * once per `interval` (Sidekiq's random_poll_interval): ±50% around interval × fleet for a small
 * fleet, uniform in [0, 2 × interval × fleet) from 10 on; capped at FLEET.schedulerMaxIntervalMs.
 */
export function pollIntervalMs(interval: number, fleet: number, random = Math.random()): number {
  const n = Math.max(1, Math.floor(fleet));
  const average = interval * n;
  const wait = n < 10 ? average * (random + 0.5) : average * 2 * random;
  return Math.min(FLEET.schedulerMaxIntervalMs, Math.max(1, Math.round(wait)));
}

export class Scheduler implements Duty {
  readonly name = 'scheduler';
  /** The randomness is in intervalMs itself (pollIntervalMs). */
  readonly jitter = 0;
  /** Supervisors sharing the polling, as last read from Sidekiq's `processes` set (1 until read). */
  fleet = 1;

  constructor(
    private readonly scripts: Scripts,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  get intervalMs(): number {
    return pollIntervalMs(this.config.schedulerInterval, this.fleet);
  }

  /** Promotes everything due now from both sets (batch after batch). */
  async tick(nowMs = Date.now()): Promise<PromoteTotals> {
    const { redis, keys } = this.scripts;
    // Read beside the first batch; a failed read keeps the last size.
    const fleet = redis.scard(keys.processes).then(
      (n) => (this.fleet = Math.max(1, n)),
      () => undefined,
    );
    try {
      return await this.promoteAll(nowMs);
    } finally {
      await fleet;
    }
  }

  private async promoteAll(nowMs: number): Promise<PromoteTotals> {
    const totals = { queued: 0, dead: 0 };
    for (const set of ['retry', 'schedule'] as const) {
      for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch++) {
        const r = await this.promoteBatch(set, nowMs / 1000);
        totals.queued += r.queued;
        totals.dead += r.dead;
        // A short batch was the last; one that moved nothing (another node took the entries,
        // or they cannot be moved) must not be read again at once.
        if (r.seen < r.limit || r.queued + r.dead === 0) break;
      }
    }
    return totals;
  }

  /**
   * Entries read per batch: schedulerBatch, fewer when the last batch's entries were big, so
   * one read and one promote call stay near FLEET.promoteMaxBytes (a batch of 100 × 200 KB jobs
   * would be one 20 MB command).
   */
  private limitFor(set: 'schedule' | 'retry'): number {
    const avg = this.avgBytes[set];
    return Math.max(1, Math.min(this.config.schedulerBatch, avg > 0 ? Math.floor(FLEET.promoteMaxBytes / avg) : this.config.schedulerBatch));
  }

  private readonly avgBytes = { schedule: 0, retry: 0 };

  private async promoteBatch(set: 'schedule' | 'retry', nowS: number): Promise<PromoteTotals & { seen: number; limit: number }> {
    const { scripts } = this;
    const limit = this.limitFor(set);
    const members = await scripts.redis.zrangebyscoreBuffer(scripts.keys[set], '-inf', nowS, 'LIMIT', 0, limit);
    if (members.length === 0) return { queued: 0, dead: 0, seen: 0, limit };
    this.avgBytes[set] = members.reduce((n, m) => n + m.length, 0) / members.length;
    const entries = members.map((member) => this.route(set, member, nowS));
    const r = await scripts.promote(set, nowS, entries);
    if (r.dead > 0) this.log.warn(`moved ${r.dead} unroutable ${set} entries to dead`, { set });
    return { ...r, seen: members.length, limit };
  }

  /** Where one due entry goes: its queue with a fresh enqueued_at, or dead with the reason. */
  private route(set: string, member: Buffer, nowS: number): PromoteEntry {
    const decoded = decodeJob(member, 'default');
    if (!decoded.ok) {
      this.log.error(`malformed ${set} entry moved to dead as its exact bytes`, { error: decoded.error, preview: member.toString('utf8', 0, 200) });
      return { member, payload: member, queue: '' };
    }
    const text = decoded.job.raw;
    const q = decoded.job.data.queue;
    if (q !== undefined && q !== null && (typeof q !== 'string' || !ROUTABLE_QUEUE.test(q))) {
      const reason = `${set} entry has no usable queue (${JSON.stringify(q)})`;
      this.log.error(`${reason}; moved to dead`, { jid: decoded.job.jid });
      return {
        member,
        payload: patchJson(text, { error_class: ERROR_CLASS.UnroutableJob, error_message: reason, failed_at: nowS }),
        queue: '',
      };
    }
    return { member, payload: markEnqueued(text, nowS), queue: decoded.job.queue };
  }
}
