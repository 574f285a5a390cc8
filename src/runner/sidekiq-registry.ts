// Sidekiq's process registry, written by the supervisor of `verk work` on every beat
// (docs/cli.md, "What `verk work` writes for Sidekiq"), so Sidekiq's API and Web UI list our processes and their
// busy jobs: SADD `processes` <identity>; the identity hash (info JSON, busy, beat, quiet, rss
// in KB, rtt_us) with a 60 s TTL; `<identity>:workers` with one Sidekiq-shaped entry per running
// job (its args bounded, src/job/args-preview.ts). The info's tag is the identity and its labels
// are `verk` and the node ids of the worker processes, so Sidekiq Web's Busy page names the same
// things as `verk processes`, `verk nodes` and `verk quiet`. Each beat also RPOPs one signal from
// `<identity>-signals` and acts on it: TSTP = quiet, TERM = graceful stop — how `verk quiet` /
// `verk stop` (and Sidekiq's Web UI) reach us — and, last, adds the jobs settled since the
// previous beat to Sidekiq's daily counters, as Sidekiq's Launcher does in its heartbeat
// (daily-stats.ts). On stop: a final flush, SREM from `processes` and UNLINK the workers hash;
// the identity hash expires.
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Keys } from '../redis/keys.js';
import type { Scripts } from '../redis/scripts.js';
import type { Duty, DutyReport } from '../core/duties/duty.js';
import { DailyStatsBook, dailyTotals, FLUSH_RECORD_TTL_S, STATS_TTL_S, utcDate } from './daily-stats.js';
import type { ChildCounters, RunningJobInfo } from './ipc.js';

const TTL_S = 60;
/** After the final flush at stop, what the supervisor added is kept this long (against a late resend). */
const FINAL_RECORD_TTL_S = 300;

/** What the registry reads from the supervisor (read lazily: it is built before the connection). */
export interface RegistryHost {
  readonly config: Config;
  readonly redis: Redis;
  readonly scripts: Pick<Scripts, 'keys' | 'flushDailyStats'>;
  readonly state: string;
  /** Live worker processes by node id. */
  readonly children: ReadonlyMap<string, { busy: number; rss: number; running: RunningJobInfo[] }>;
  /** Job totals of exited and live worker processes (summed for the daily counters). */
  counters(): ChildCounters[];
  quiet(): void;
  stop(): Promise<void>;
}

export class SidekiqRegistry implements Duty {
  readonly name = 'sidekiq-registry';
  readonly jitter = 0;
  readonly identity: string;
  readonly hostname = os.hostname();
  readonly startedAt = Date.now() / 1000;
  /** Last signal taken from the signal list (for tests and logs). */
  lastSignal: string | undefined;
  /** What Redis has confirmed of the daily counters. */
  readonly dailyStats = new DailyStatsBook();

  constructor(
    private readonly host: RegistryHost,
    opts: { identity?: string } = {},
  ) {
    this.identity = opts.identity ?? `${this.hostname}:${process.pid}:${randomBytes(6).toString('hex')}`;
  }

  get intervalMs(): number {
    return this.host.config.heartbeatInterval;
  }

  private get keys(): Keys {
    return this.host.scripts.keys;
  }

  info(): string {
    const c = this.host.config;
    return JSON.stringify({
      hostname: this.hostname,
      started_at: this.startedAt,
      pid: process.pid,
      tag: this.identity,
      concurrency: c.queues.reduce((n, q) => n + q.concurrency, 0) * c.processes,
      queues: c.queues.map((q) => q.name),
      labels: ['verk', ...[...this.host.children.keys()].sort()],
      identity: this.identity,
    });
  }

  /** One beat; a failure is thrown (the duty runner logs it once per distinct error). */
  async tick(): Promise<DutyReport> {
    await this.beat();
    return {};
  }

  /** Workers hash, PING for rtt, process hash, one pending signal, then the daily counters. */
  private async beat(): Promise<void> {
    const { redis } = this.host;
    const k = this.keys;
    const children = [...this.host.children.values()];
    const running = children.flatMap((c) => c.running);
    const workersKey = k.processWorkers(this.identity);
    const w = redis.multi().unlink(workersKey);
    if (running.length) {
      const fields: string[] = [];
      for (const job of running) fields.push(job.jid, workerEntry(job));
      w.hset(workersKey, ...fields).expire(workersKey, TTL_S);
    }
    await w.exec();
    const t0 = process.hrtime.bigint();
    await redis.ping();
    const rttUs = Number((process.hrtime.bigint() - t0) / 1000n);
    const rssKb = Math.round((process.memoryUsage.rss() + children.reduce((n, c) => n + c.rss, 0)) / 1024);
    const key = k.process(this.identity);
    const res = await redis
      .multi()
      .sadd(k.processes, this.identity)
      .hset(
        key,
        'info',
        this.info(),
        'busy',
        children.reduce((n, c) => n + c.busy, 0),
        'beat',
        Date.now() / 1000,
        'rtt_us',
        rttUs,
        'quiet',
        String(this.host.state !== 'running'),
        'rss',
        rssKb,
      )
      .expire(key, TTL_S)
      .rpop(k.processSignals(this.identity))
      .exec();
    const signal = res?.[3]?.[1] as string | null | undefined;
    if (signal) this.act(signal);
    await this.flushDailyStats(FLUSH_RECORD_TTL_S);
  }

  /**
   * Adds what was settled since the last confirmed flush to `stat:processed:<today>` and
   * `stat:failed:<today>` (UTC). Sends cumulative totals: a failed flush is covered by the next,
   * a repeated one adds nothing (lua/flush-daily-stats-3.lua).
   */
  private async flushDailyStats(recordTtlS: number): Promise<void> {
    const totals = this.dailyStats.due(dailyTotals(this.host.counters()));
    if (!totals) return;
    const reply = await this.host.scripts.flushDailyStats({
      identity: this.identity,
      date: utcDate(Date.now()),
      totals,
      added: this.dailyStats.confirmed,
      statsTtlS: STATS_TTL_S,
      recordTtlS,
    });
    this.dailyStats.confirm(reply);
  }

  private act(signal: string): void {
    this.lastSignal = signal;
    if (signal === 'TSTP') this.host.quiet();
    // Not awaited: stopping waits for this ticker, which waits for this tick.
    else if (signal === 'TERM') void this.host.stop();
  }

  /** Clean stop: last daily counts, leave the `processes` set and drop the workers hash (the identity hash expires). */
  async stop(): Promise<void> {
    const k = this.keys;
    const [flushed, left] = await Promise.allSettled([
      this.flushDailyStats(FINAL_RECORD_TTL_S),
      this.host.redis.multi().srem(k.processes, this.identity).unlink(k.processWorkers(this.identity)).exec(),
    ]);
    if (left.status === 'rejected') throw left.reason;
    if (flushed.status === 'rejected') throw new Error(`the last job counts were not added to Sidekiq's daily counters: ${(flushed.reason as Error).message}`);
  }
}

/**
 * Sidekiq's workers-hash value; the payload is rebuilt from what the child reports. `args` is
 * spliced in as the JSON text the child sent (the payload's own bytes, or a bounded stand-in).
 */
export function workerEntry(job: RunningJobInfo): string {
  const payload = `{"queue":${JSON.stringify(job.queue)},"class":${JSON.stringify(job.class)},"args":${job.args ?? '[]'},"jid":${JSON.stringify(job.jid)}}`;
  return JSON.stringify({ queue: job.queue, payload, run_at: Math.floor(job.started_at / 1000) });
}
