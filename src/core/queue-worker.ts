// One queue inside one worker process: fetches up to `concurrency` jobs at a time (blocking on
// an empty queue instead of polling), runs them, and settles each one (ack, retry, dead) only
// while this node still holds it. Acks of jobs finishing together go out as one script call.
import type { Redis } from 'ioredis';
import type { Config, QueueConfig } from '../config/schema.js';
import { decodeJob, failedPayload, type Job } from '../job/codec.js';
import type { Scripts } from '../redis/scripts.js';
import type { Logger } from '../util/logger.js';
import type { Handler, HandlerRegistry } from './handlers.js';
import { runJob, backtraceOf, type JobRun } from './job-run.js';
import { decideFailure } from './retry-policy.js';

export interface QueueWorkerEvents {
  /** The node lost its registration: it must stop and be replaced. */
  onFenced(reason: string): void;
  /** A finish was refused because the job was no longer held by this node. */
  onRejected(count: number): void;
  /** A handler ignored its aborted signal for killGrace: the process must be recycled. */
  onIgnoredAbort(jid: string): void;
  onSettled(queue: string, result: 'processed' | 'failed' | 'retried' | 'dead' | 'dropped', ms: number): void;
}

export interface RunningEntry {
  raw: string;
  jid: string;
  class: string;
  queue: string;
  startedAt: number;
  run?: JobRun;
  /** Settled (acked/failed) or handed back: nothing more may be written for it. */
  closed: boolean;
}

export interface QueueWorkerDeps {
  queue: QueueConfig;
  node: string;
  config: Config;
  scripts: Scripts;
  /** A connection of its own for the blocking wait (BLMOVE). */
  blocking: Redis;
  registry: HandlerRegistry;
  log: Logger;
  events: QueueWorkerEvents;
}

const PAUSE_POLL_MS = 500;

export class QueueWorker {
  readonly running = new Set<RunningEntry>();
  private stopped = false;
  private firstFetch = true;
  private loopDone: Promise<void> | undefined;
  private slotWaiter: (() => void) | undefined;
  private ackBuffer: { entry: RunningEntry; resolve: () => void }[] = [];
  private ackScheduled = false;
  private reconcileNeeded = false;
  private fetchErrorLogged = false;
  private readonly settling = new Set<Promise<unknown>>();

  constructor(private readonly d: QueueWorkerDeps) {}

  get name(): string {
    return this.d.queue.name;
  }

  start(): void {
    this.loopDone ??= this.loop();
  }

  /** Stops fetching; running jobs go on. Resolves when the fetch loop has exited. */
  async stopFetching(): Promise<void> {
    this.stopped = true;
    this.slotWaiter?.();
    this.d.blocking.disconnect();
    await this.loopDone;
  }

  /** After a reconnect: hand back anything in our list that we are not running (a lost fetch reply). */
  requestReconcile(): void {
    this.reconcileNeeded = true;
  }

  /** Resolves when no handler of this queue is running and every settle write is done. */
  async drained(): Promise<void> {
    while (this.running.size > 0 || this.settling.size > 0) {
      const waits: Promise<unknown>[] = [...this.running].map((e) => e.run?.finished ?? Promise.resolve());
      await Promise.race(waits.concat([...this.settling]));
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Keeps track of a settle write so shutdown can wait for it. */
  private track<T>(p: Promise<T>): Promise<T> {
    this.settling.add(p);
    return p.finally(() => this.settling.delete(p));
  }

  /**
   * Hands every unsettled job back to the front of its queue without spending a retry and
   * aborts its signal (shutdown deadline, fencing, recycle). Returns how many went back.
   */
  async handBack(reason: string): Promise<number> {
    const open = [...this.running].filter((e) => !e.closed);
    for (const e of open) {
      e.closed = true;
      e.run?.controller.abort(new Error(reason));
    }
    // Newest first, so the job that started first ends up next in line.
    const moved = await this.d.scripts.handback(this.name, this.d.node, open.reverse().map((e) => e.raw));
    // Jobs no longer held were taken over by a reaper: this node's write for them is refused.
    if (moved < open.length) this.d.events.onRejected(open.length - moved);
    return moved;
  }

  snapshot(): { jid: string; class: string; queue: string; started_at: number }[] {
    return [...this.running].map((e) => ({ jid: e.jid, class: e.class, queue: e.queue, started_at: e.startedAt }));
  }

  private async loop(): Promise<void> {
    const { queue, scripts, node, log } = this.d;
    while (!this.stopped) {
      const free = queue.concurrency - this.running.size;
      if (free <= 0) {
        await new Promise<void>((r) => (this.slotWaiter = r));
        this.slotWaiter = undefined;
        continue;
      }
      if (this.reconcileNeeded) await this.reconcile();
      let res;
      try {
        res = await scripts.fetch(queue.name, node, free, this.firstFetch);
        this.fetchErrorLogged = false;
      } catch (err) {
        if (this.stopped) break;
        if (!this.fetchErrorLogged) log.warn('fetch failed; retrying', { queue: queue.name, error: (err as Error).message });
        this.fetchErrorLogged = true;
        await sleep(250);
        continue;
      }
      if (res.status === 'fenced') {
        this.d.events.onFenced(`fetch from ${queue.name} refused: the node is no longer registered`);
        return;
      }
      if (res.status === 'paused') {
        await sleep(PAUSE_POLL_MS);
        continue;
      }
      this.firstFetch = false;
      if (res.jobs.length === 0) {
        await this.waitForJobs();
        continue;
      }
      for (const raw of res.jobs) this.startJob(raw);
    }
  }

  /** Blocks until the queue has a job (or the timeout passes) without taking it: BLMOVE q q. */
  private async waitForJobs(): Promise<void> {
    const key = this.d.scripts.keys.queue(this.name);
    try {
      await this.d.blocking.blmove(key, key, 'RIGHT', 'RIGHT', this.d.config.blockTimeout / 1000);
    } catch {
      if (!this.stopped) await sleep(100);
    }
  }

  private startJob(raw: string): void {
    const decoded = decodeJob(raw, this.name);
    const entry: RunningEntry = {
      raw,
      jid: decoded.ok ? decoded.job.jid : '',
      class: decoded.ok ? decoded.job.class : '',
      queue: this.name,
      startedAt: Date.now(),
      closed: false,
    };
    this.running.add(entry);
    const release = () => {
      this.running.delete(entry);
      this.slotWaiter?.();
    };
    if (!decoded.ok) {
      void this.track(this.buryMalformed(entry, decoded.error)).finally(release);
      return;
    }
    const job = decoded.job;
    const handler = this.d.registry.get(job.class);
    if (!handler) {
      const err = new Error(`no handler for class ${job.class} in ${this.d.config.handlers}`);
      err.name = 'UnknownJobClass';
      void this.track(this.settleFailure(entry, job, err, undefined)).finally(release);
      return;
    }
    const log = this.d.log.child({ queue: this.name, jid: job.jid, class: job.class });
    const timeoutMs = handler.timeoutMs ?? (this.d.queue.timeout || this.d.config.jobTimeout);
    entry.run = runJob(job, handler, {
      timeoutMs,
      killGraceMs: this.d.config.killGrace,
      onIgnoredAbort: () => this.d.events.onIgnoredAbort(job.jid),
      log,
    });
    const settled = this.track(entry.run.outcome.then((outcome) =>
      outcome.ok ? this.ack(entry) : this.settleFailure(entry, job, outcome.error, handler),
    )).catch((err) => log.error('could not settle job; it stays in progress and is recovered with this node', { error: (err as Error).message }));
    // The entry stays "ours" until its handler has returned and its settle write is done, so a
    // reconcile after a reconnect never hands back a job whose ack is still in flight.
    void Promise.all([entry.run.finished, settled]).then(release);
  }

  private ack(entry: RunningEntry): Promise<void> {
    if (entry.closed) return Promise.resolve();
    entry.closed = true;
    return new Promise((resolve) => {
      this.ackBuffer.push({ entry, resolve });
      if (!this.ackScheduled) {
        this.ackScheduled = true;
        setImmediate(() => void this.flushAcks());
      }
    });
  }

  private async flushAcks(): Promise<void> {
    this.ackScheduled = false;
    const batch = this.ackBuffer;
    this.ackBuffer = [];
    const { scripts, node, events } = this.d;
    const res = await this.retrying('ack', () => scripts.ack(this.name, node, batch.map((b) => b.entry.raw)));
    const now = Date.now();
    const debug = this.d.config.logLevel === 'debug';
    for (const b of batch) {
      events.onSettled(this.name, 'processed', now - b.entry.startedAt);
      if (debug) this.d.log.debug('job done', { queue: this.name, jid: b.entry.jid, class: b.entry.class, duration_ms: now - b.entry.startedAt });
    }
    if (res.removed < batch.length) this.rejected(batch.length - res.removed, res.alive, 'ack');
    for (const b of batch) b.resolve();
  }

  private async settleFailure(entry: RunningEntry, job: Job, error: Error, handler: Handler | undefined): Promise<void> {
    if (entry.closed) return;
    entry.closed = true;
    const cfg = this.d.config;
    const nowS = Date.now() / 1000;
    const { payload, retryCount } = failedPayload(job, {
      errorClass: error.name || 'Error',
      errorMessage: error.message,
      backtrace: backtraceOf(error, cfg.backtraceLines),
      nowSeconds: nowS,
    });
    const decision = decideFailure(job, retryCount, error, handler, cfg.maxRetries);
    const res = await this.retrying('failure', () => this.d.scripts.fail({
      queue: this.name,
      node: this.d.node,
      raw: entry.raw,
      mode: decision.mode,
      payload,
      score: decision.mode === 'retry' ? nowS + decision.delaySeconds : nowS,
      deadMinScore: nowS - cfg.deadTimeout / 1000,
      deadMaxJobs: cfg.deadMaxJobs,
    }));
    const result = decision.mode === 'retry' ? 'retried' : decision.mode === 'dead' ? 'dead' : 'dropped';
    this.d.events.onSettled(this.name, 'failed', Date.now() - entry.startedAt);
    if (res === 1) {
      this.d.events.onSettled(this.name, result, 0);
      this.d.log.warn(`job failed; ${result}`, {
        queue: this.name, jid: job.jid, class: job.class, error: `${error.name}: ${error.message}`, retry_count: retryCount,
        duration_ms: Date.now() - entry.startedAt,
        ...(decision.mode === 'retry' ? { retry_in_s: decision.delaySeconds } : {}),
      });
    } else this.rejected(1, res === 0, 'failure');
  }

  private async buryMalformed(entry: RunningEntry, why: string): Promise<void> {
    entry.closed = true;
    const cfg = this.d.config;
    const nowS = Date.now() / 1000;
    const res = await this.retrying('failure', () => this.d.scripts.fail({
      queue: this.name, node: this.d.node, raw: entry.raw, mode: 'dead', payload: entry.raw,
      score: nowS, deadMinScore: nowS - cfg.deadTimeout / 1000, deadMaxJobs: cfg.deadMaxJobs,
    }));
    if (res !== 1) return this.rejected(1, res === 0, 'failure');
    await this.d.scripts.recordMalformed(this.name, this.d.node, entry.raw, why, nowS);
    this.d.events.onSettled(this.name, 'dead', 0);
    this.d.log.error('malformed payload moved to dead as its raw string', { queue: this.name, error: why, preview: entry.raw.slice(0, 200) });
  }

  /**
   * Settle writes are retried until Redis answers (they are safe to repeat: a second attempt
   * finds the job gone and changes nothing), so a Redis outage never strands a finished job.
   */
  private async retrying<T>(what: string, write: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        if (attempt === 0) this.d.log.warn(`${what} write failed; retrying until Redis answers`, { queue: this.name, error: (err as Error).message });
        await sleep(Math.min(100 * 2 ** attempt, 2000));
      }
    }
  }

  private rejected(count: number, nodeAlive: boolean, what: string): void {
    this.d.events.onRejected(count);
    this.d.log.warn(`${what} refused: this node no longer holds the job (it was handed back)`, { queue: this.name, count });
    if (!nodeAlive) this.d.events.onFenced(`${what} refused: the node is no longer registered`);
  }

  private async reconcile(): Promise<void> {
    this.reconcileNeeded = false;
    const { scripts, node } = this.d;
    const held = await scripts.redis.lrange(scripts.keys.inprogress(this.name, node), 0, -1);
    const mine = new Map<string, number>();
    for (const e of this.running) mine.set(e.raw, (mine.get(e.raw) ?? 0) + 1);
    const orphans: string[] = [];
    for (const raw of held) {
      const n = mine.get(raw) ?? 0;
      if (n > 0) mine.set(raw, n - 1);
      else orphans.push(raw);
    }
    const moved = await scripts.handback(this.name, node, orphans);
    if (moved > 0) this.d.log.warn('handed back jobs whose fetch reply was lost in a reconnect', { queue: this.name, count: moved });
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
