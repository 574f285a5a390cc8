// Limit audit duty (docs/limits.md, "Audit"): the safety net of cluster-wide limits. Every
// LIMITS.auditIntervalMs each supervisor recounts the limited queues' held counts from the slot
// records of the registered nodes (one script, lua/limit-audit-2.lua) and fixes what disagrees;
// with correct scripts it fixes nothing, and every fix is logged and counted
// (verk_limit_audit_fixes_total). On its first tick it also publishes this node's limits to
// verk:limits (queue → the limit) and warns when another node's differ: every node of a fleet
// must run with the same limits, and a rolling deploy that changes them is the one time they differ.
import { LIMITS } from '../../config/defaults.js';
import { limitRecord, type LimitEntry } from '../../config/limits.js';
import type { Scripts } from '../../redis/scripts.js';
import type { Logger } from '../../util/logger.js';
import type { Duty, DutyReport } from './duty.js';

export class LimitAudit implements Duty {
  readonly name = 'limit-audit';
  readonly intervalMs = LIMITS.auditIntervalMs;
  readonly jitter = 0.2;
  /** Fixes made since start (a metric). */
  fixes = 0;
  private published = false;

  constructor(
    private readonly scripts: Scripts,
    private readonly limits: readonly LimitEntry[],
    private readonly log: Logger,
  ) {}

  async tick(): Promise<DutyReport> {
    if (!this.published) await this.publish();
    const res = await this.scripts.limitAudit();
    if (res.status === 'too_big') {
      this.log.warn('limit audit skipped: more slot records than it reads in one call', { records: res.records, max: LIMITS.auditMaxRecords });
      return { skipped: 1 };
    }
    for (const f of res.fixes) {
      this.log.warn(
        f.what === 'held'
          ? 'limit audit fixed a held count that disagreed with the slot records'
          : 'limit audit made a key with parked jobs and a free slot due (it was not in the ready set)',
        { queue: f.queue, key: f.key, ...(f.what === 'held' ? { was: f.was, now: f.now } : {}) },
      );
    }
    this.fixes += res.fixes.length;
    return res.fixes.length ? { fixes: res.fixes.length } : {};
  }

  /** Writes this node's limits to verk:limits, warning about each queue whose recorded limit differs. */
  private async publish(): Promise<void> {
    const key = this.scripts.keys.limits;
    const before = await this.scripts.redis.hgetall(key);
    for (const l of this.limits) {
      const mine = limitRecord(l);
      const theirs = before[l.queue];
      if (theirs !== undefined && theirs !== mine) {
        this.log.warn('this node runs another limit than the one recorded in verk:limits (every node must run the same limits; the last to start wins)', {
          queue: l.queue,
          recorded: theirs,
          mine,
        });
      }
    }
    if (this.limits.length) await this.scripts.redis.hset(key, Object.fromEntries(this.limits.map((l) => [l.queue, limitRecord(l)])));
    this.published = true;
  }
}
