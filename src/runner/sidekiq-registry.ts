// Sidekiq's process registry, written by the supervisor of `verk work` every 10 s like Sidekiq's
// own beat (docs/cli.md, "What `verk work` writes for Sidekiq"), so Sidekiq's API and Web UI list our processes and their
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
import { FLEET } from '../config/defaults.js';
import type { Keys } from '../redis/keys.js';
import type { Scripts } from '../redis/scripts.js';
import type { Duty, DutyReport } from '../core/duties/duty.js';
import { DailyStatsBook, dailyTotals, FLUSH_RECORD_TTL_S, STATS_TTL_S, utcDate } from './daily-stats.js';
import type { ChildCounters, RunningJobInfo } from './ipc.js';

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
  /** Successful beats since the TTLs were last renewed (-1: never). */
  private beatsSinceRenew = -1;
  /** The workers hash as last written (JSON of its fields). */
  private workersWritten = '[]';
  private rttUs = 0;
  /** What Redis has confirmed of the daily counters. */
  readonly dailyStats = new DailyStatsBook();

  constructor(
    private readonly host: RegistryHost,
    opts: { identity?: string } = {},
  ) {
    this.identity = opts.identity ?? `${this.hostname}:${process.pid}:${randomBytes(6).toString('hex')}`;
  }

  /** Sidekiq's own beat (10 s), or twice the heartbeat interval when that is shorter (tests). */
  get intervalMs(): number {
    return Math.min(FLEET.sidekiqBeatMs, 2 * this.host.config.heartbeatInterval);
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

  /**
   * The process hash and one pending signal, in one pipeline (no MULTI: Sidekiq's readers need
   * no atomicity here). An idle beat is two commands (HSET, RPOP): the identity is re-added to
   * `processes` and the TTLs renewed every FLEET.sidekiqRenewEvery beats (a 60 s TTL, a 10 s
   * beat), and the workers hash is rewritten only when the running jobs changed.
   */
  private async beat(): Promise<void> {
    const { redis } = this.host;
    const k = this.keys;
    const children = [...this.host.children.values()];
    const running = children.flatMap((c) => c.running);
    const workersKey = k.processWorkers(this.identity);
    const key = k.process(this.identity);
    const renew = this.beatsSinceRenew + 1 >= FLEET.sidekiqRenewEvery || this.beatsSinceRenew < 0;
    const workers = running.map((job) => [job.jid, workerEntry(job)] as const);
    const workersNow = JSON.stringify(workers);
    const pipe = redis.pipeline();
    if (workersNow !== this.workersWritten) {
      pipe.unlink(workersKey);
      if (workers.length) pipe.hset(workersKey, ...workers.flat()).expire(workersKey, FLEET.sidekiqTtlS);
    } else if (renew && workers.length) pipe.expire(workersKey, FLEET.sidekiqTtlS);
    const rssKb = Math.round((process.memoryUsage.rss() + children.reduce((n, c) => n + c.rss, 0)) / 1024);
    if (renew) pipe.sadd(k.processes, this.identity);
    pipe.hset(
      key,
      'info',
      this.info(),
      'busy',
      children.reduce((n, c) => n + c.busy, 0),
      'beat',
      Date.now() / 1000,
      'rtt_us',
      this.rttUs,
      'quiet',
      String(this.host.state !== 'running'),
      'rss',
      rssKb,
    );
    if (renew) pipe.expire(key, FLEET.sidekiqTtlS);
    pipe.rpop(k.processSignals(this.identity));
    const t0 = process.hrtime.bigint();
    const res = await pipe.exec().catch((err: Error) => [[err, null]] as [Error | null, unknown][]);
    // Sidekiq's rtt_us is a PING's round trip; this pipeline's is as good and costs no command.
    this.rttUs = Number((process.hrtime.bigint() - t0) / 1000n);
    const failed = (res ?? []).find(([err]) => err);
    if (!res || failed) {
      // Unknown what was written (or whether the keys outlived the outage): write all next time.
      this.workersWritten = '';
      this.beatsSinceRenew = -1;
      throw failed?.[0] ?? new Error('pipeline aborted');
    }
    this.workersWritten = workersNow;
    this.beatsSinceRenew = renew ? 0 : this.beatsSinceRenew + 1;
    // HSET added fields: the hash had expired (or was deleted) and now has no TTL: renew at once.
    const added = Number(res[res.length - (renew ? 3 : 2)]?.[1] ?? 0);
    if (!renew && added > 0) {
      await redis.multi().sadd(k.processes, this.identity).expire(key, FLEET.sidekiqTtlS).exec();
      this.beatsSinceRenew = 0;
    }
    const signal = res[res.length - 1]?.[1] as string | null | undefined;
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
