// Cron duty: periodic jobs, leaderless (docs/cron.md). Every supervisor runs it; each round reads
// Redis's clock (TIME) and every entry's watermark in one pipeline, plans the due ticks
// (src/core/cron-plan.ts) and calls lua/cron-tick-8.lua once per decision. The script decides
// each tick exactly once fleet-wide, so the supervisors need no lock and no leader: the first
// call for a tick fires it, every other one is a no-op. The local clock is never read for a
// tick: only the length of the sleep is measured locally, and it is recomputed from Redis's
// clock after every wake, so a node whose clock jumps fires nothing twice (and nothing early).
// Between rounds a supervisor sleeps until the next tick of any entry (at most CRON.maxSleepMs),
// plus a small random delay that spreads the fleet's wake-ups: the first to wake fires, the
// others usually find the watermark moved and make no script call at all.
import type { Config } from '../../config/schema.js';
import type { CronEntry } from '../../config/cron.js';
import { CRON } from '../../config/defaults.js';
import { cronJobHead } from '../../job/cron-job.js';
import { nextTick } from '../../job/cron-schedule.js';
import type { CronTickResult } from '../../redis/cron-calls.js';
import { failoverReply } from '../../redis/failover-stats.js';
import { WrongTypeError } from '../../redis/statuses.js';
import type { Scripts } from '../../redis/scripts.js';
import { timeReplySeconds } from '../../redis/redis-clock.js';
import type { Logger } from '../../util/logger.js';
import { planTicks } from '../cron-plan.js';
import type { Duty, DutyReport } from './duty.js';

/** What one supervisor decided for one entry since it started (for metrics). */
export interface CronCounts {
  fired: number;
  skipped: number;
  /** Ticks recorded missed (a 'miss' call counts its ticks). */
  missed: number;
  /** Calls that found the tick already decided (another supervisor was first). */
  dup: number;
}

/** Lags (fire instant − tick instant, ms) waiting for the next metrics scrape, at most this many. */
const MAX_PENDING_LAGS = 10_000;

export class CronDuty implements Duty {
  readonly name = 'cron';
  readonly jitter = 0;
  readonly counts = new Map<string, CronCounts>();
  private pendingLags: { entry: string; lagMs: number }[] = [];
  private sleepMs: number = CRON.minSleepMs;
  /** Set when a call found the watermark moved by another supervisor: the next round comes at once. */
  private replan = false;

  constructor(
    private readonly scripts: Scripts,
    private readonly config: Pick<Config, 'cron' | 'maxRecoveries'>,
    private readonly log: Logger,
    /** Who fires, in the history (the supervisor's id). */
    private readonly by: string,
    private readonly random: () => number = Math.random,
  ) {
    for (const e of this.entries) this.counts.set(e.name, { fired: 0, skipped: 0, missed: 0, dup: 0 });
  }

  /** The resolved entries (a config built by hand may still hold the file form `{}`: none). */
  private get entries(): readonly CronEntry[] {
    return Array.isArray(this.config.cron) ? this.config.cron : [];
  }

  /** The wait before the next round: until the next tick of any entry (read after each round). */
  get intervalMs(): number {
    return this.sleepMs;
  }

  /** The lags observed since the last call (the metrics histogram drains them at each scrape). */
  drainLags(): { entry: string; lagMs: number }[] {
    const out = this.pendingLags;
    this.pendingLags = [];
    return out;
  }

  /** One round: decides every due tick of every entry, then computes the sleep until the next one. */
  async tick(): Promise<DutyReport> {
    const entries = this.entries;
    const report: DutyReport = { fired: 0, skipped: 0, missed: 0, dup: 0 };
    if (entries.length === 0) {
      this.sleepMs = CRON.maxSleepMs;
      return report;
    }
    // Until this round succeeds: a failing Redis is retried after errorSleepMs, not in a loop.
    this.sleepMs = CRON.errorSleepMs;
    const { nowMs, watermarks } = await this.read(entries);
    let latest = nowMs;
    const after = new Map<string, number>();
    // One entry's bad key (a reply error: wrong type) fails that entry only; the others are still
    // decided. A lost connection fails the round (the next entries would only wait for it too).
    const failed: string[] = [];
    for (const e of entries) {
      const wm = watermarks.get(e.name);
      try {
        if (wm instanceof Error) throw wm;
        const w = await this.decide(e, wm, nowMs, report);
        after.set(e.name, w.watermarkMs);
        latest = Math.max(latest, w.nowMs);
      } catch (err) {
        if (!entryError(err)) throw err;
        failed.push(`${e.name}: ${(err as Error).message}`);
      }
    }
    const sleep = this.replan ? CRON.minSleepMs : this.sleepUntilNext(entries, after, latest);
    this.replan = false;
    if (failed.length > 0) {
      this.sleepMs = Math.min(CRON.errorSleepMs, sleep);
      throw new Error(`periodic entries failed (the others were decided): ${failed.join('; ')}`);
    }
    this.sleepMs = sleep;
    return report;
  }

  /** TIME and every entry's watermark, in one round trip. */
  private async read(entries: readonly CronEntry[]): Promise<{ nowMs: number; watermarks: Map<string, number | undefined | Error> }> {
    const { redis, keys } = this.scripts;
    const pipe = redis.pipeline().time();
    for (const e of entries) pipe.hget(keys.cronState(e.name), 'last_tick');
    const res = (await pipe.exec()) ?? [];
    const value = (i: number) => {
      const [err, v] = res[i] ?? [new Error('no reply'), null];
      if (err) throw err;
      return v;
    };
    const nowMs = Math.floor(timeReplySeconds(value(0) as [string, string]) * 1000);
    const watermarks = new Map<string, number | undefined | Error>();
    entries.forEach((e, i) => {
      const [err, v] = res[i + 1] ?? [new Error('no reply'), null];
      if (err && entryError(err)) watermarks.set(e.name, err);
      else if (err) throw err;
      else watermarks.set(e.name, v === null || v === undefined || v === '' ? undefined : Number(v));
    });
    return { nowMs, watermarks };
  }

  /** Decides one entry's due ticks; returns its watermark afterwards and the latest Redis time seen. */
  private async decide(e: CronEntry, watermark: number | undefined, nowMs: number, report: DutyReport): Promise<{ watermarkMs: number; nowMs: number }> {
    const counts = this.counts.get(e.name) ?? { fired: 0, skipped: 0, missed: 0, dup: 0 };
    this.counts.set(e.name, counts);
    if (watermark === undefined || !Number.isFinite(watermark)) {
      const r = await this.call(e, 'init', 0);
      if (r.outcome === 'init') this.log.info('periodic job armed: ticks from now on are fired', { cron: e.name, schedule: e.schedule, tz: e.tz });
      return { watermarkMs: r.watermarkMs ?? r.nowMs, nowMs: r.nowMs };
    }
    let w = watermark;
    let seen = nowMs;
    for (const a of planTicks(e, watermark, nowMs, CRON.maxTicksPerRound)) {
      const r = a.mode === 'miss' ? await this.call(e, 'miss', a.tickMs, w, { count: a.count, fromMs: a.fromMs }) : await this.call(e, 'fire', a.tickMs, w);
      seen = Math.max(seen, r.nowMs);
      this.count(e, r, counts, report);
      if (r.outcome === 'dup' && r.watermarkMs === a.tickMs) {
        // Another supervisor decided this very tick: go on with the next one.
        w = a.tickMs;
        continue;
      }
      if (r.outcome === 'dup' || r.outcome === 'stale' || r.outcome === 'future' || r.outcome === 'init') {
        // Another supervisor decided further already, or the state was deleted and the entry
        // armed again (or Redis's clock went back): plan again from the watermark it left, at
        // once (or, for 'future', after the usual sleep).
        if (r.outcome !== 'future') this.replan = true;
        return { watermarkMs: Math.max(w, r.watermarkMs ?? w), nowMs: seen };
      }
      w = a.tickMs;
    }
    return { watermarkMs: w, nowMs: seen };
  }

  private call(e: CronEntry, mode: 'init' | 'fire' | 'miss', tickMs: number, expectedMs = 0, missed?: { count: number; fromMs: number }): Promise<CronTickResult> {
    const { head, jid } = cronJobHead(e);
    return this.scripts.cronTick({
      mode,
      name: e.name,
      queue: e.queue,
      overlap: e.overlap,
      tickMs,
      expectedMs,
      missed,
      head,
      jid,
      by: this.by,
      recoveredForms: this.config.maxRecoveries,
    });
  }

  private count(e: CronEntry, r: CronTickResult, counts: CronCounts, report: DutyReport): void {
    const tick = new Date(r.tickMs).toISOString();
    if (r.outcome === 'fired') {
      counts.fired++;
      report.fired++;
      const lagMs = Math.max(0, r.nowMs - r.tickMs);
      if (this.pendingLags.length < MAX_PENDING_LAGS) this.pendingLags.push({ entry: e.name, lagMs });
      this.log.debug('periodic job enqueued', { cron: e.name, tick, jid: r.jid, queue: e.queue, lag_ms: lagMs, ...(r.replaced ? { replaced: true } : {}) });
    } else if (r.outcome === 'skipped') {
      counts.skipped++;
      report.skipped++;
      this.log.debug('periodic tick skipped', { cron: e.name, tick, reason: r.reason });
    } else if (r.outcome === 'missed') {
      counts.missed += r.count ?? 1;
      report.missed += r.count ?? 1;
      this.log.warn('periodic ticks missed (no node fired them in time; catchUp gave up on them)', { cron: e.name, newest: tick, count: r.count, catch_up: e.catchUp });
    } else if (r.outcome === 'dup' || r.outcome === 'stale') {
      counts.dup++;
      report.dup++;
    } else if (r.outcome === 'future') {
      this.log.warn("a due tick is after Redis's clock (did Redis's clock go back?); retried later", { cron: e.name, tick, redis_now: new Date(r.nowMs).toISOString() });
    }
  }

  /** Until the next tick of any entry after its watermark, plus jitter; within [minSleepMs, maxSleepMs]. */
  private sleepUntilNext(entries: readonly CronEntry[], watermarks: Map<string, number>, nowMs: number): number {
    let wait: number = CRON.maxSleepMs;
    for (const e of entries) {
      const from = Math.max(nowMs, watermarks.get(e.name) ?? nowMs);
      const next = nextTick(e, from);
      if (next === undefined) continue;
      const gap = next - nowMs;
      const after = nextTick(e, next);
      const period = after === undefined ? CRON.maxJitterMs : after - next;
      const jitter = Math.min(CRON.maxJitterMs, period * CRON.jitterShare) * this.random();
      wait = Math.min(wait, gap + jitter);
    }
    return Math.max(CRON.minSleepMs, Math.min(CRON.maxSleepMs, Math.round(wait)));
  }
}

/**
 * An error of one entry's keys (Redis answered: a wrong type, a script error), not of the
 * connection nor of a failover (READONLY, LOADING, MASTERDOWN…: the round fails at once).
 */
function entryError(err: unknown): boolean {
  if (err instanceof WrongTypeError) return true;
  return (err as Error)?.name === 'ReplyError' && failoverReply(err as Error) === undefined;
}
