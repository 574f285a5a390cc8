// Settles finished jobs for one queue of one node: acks (batched: jobs finishing in the same
// tick go out together, split into bounded script calls sent at once: ack-plan.ts), retries,
// dead and dropped jobs, malformed payloads. Every write succeeds only while the node still holds
// the job; a refused write is counted and, if the node is no longer registered, fences it. Writes
// are retried until Redis answers. Keeps the order of the node's in-progress list (HeldOrder) so
// an ack names each job at the position where it expects it.
import type { Config } from '../config/schema.js';
import { SCRIPT_BOUNDS } from '../config/defaults.js';
import { failedPayload, INVALID_ARGS_ERROR, type Job } from '../job/codec.js';
import { payloadIdentity } from '../job/identity.js';
import type { AckResult, AckTags, Scripts, UniqueRef } from '../redis/scripts.js';
import { confirmWrite, epochOf } from '../redis/replication.js';
import type { Logger } from '../util/logger.js';
import { backoffMs, sleep } from '../util/sleep.js';
import type { Handler } from './handlers.js';
import { planAcks, type AckCall } from './ack-plan.js';
import { HeldOrder } from './held-order.js';
import { backtraceOf, type JobRun } from './job-run.js';
import { decideFailure } from './retry-policy.js';

export type SettleResult = 'processed' | 'failed' | 'retried' | 'dead' | 'dropped';

export interface SettleEvents {
  /** The node lost its registration: it must stop and be replaced. */
  onFenced(reason: string): void;
  /** Writes refused because the job was no longer held by this node. */
  onRejected(count: number): void;
  onSettled(queue: string, result: SettleResult, ms: number): void;
}

export interface RunningEntry {
  /** The payload's bytes exactly as fetched: every write for the job names it by these bytes. */
  raw: Buffer;
  jid: string;
  class: string;
  queue: string;
  startedAt: number;
  /** The handler's perform was invoked (a job waiting to run alone or for its start record is not started). */
  started: boolean;
  /**
   * The payload decoded (only when it is valid UTF-8). Its UTF-8 encoding is exactly `raw`, so
   * the ack may send it instead of the Buffer: the same bytes on the wire, a cheaper write.
   */
  text?: string;
  /** payloadIdentity(raw), computed on first use. */
  identity?: string;
  /** argsPreview(text): the args for Sidekiq's Busy page, computed on the first snapshot. */
  argsPreview?: string;
  run?: JobRun;
  /** Settled (acked/failed) or handed back: nothing more may be written for it. */
  closed: boolean;
  /**
   * The unique lock the job still holds (docs/unique-jobs.md; not a ttl lock): the ack and the
   * dead/drop failure release it in their own script call. Cleared once released at the start.
   */
  unique?: UniqueRef & { until: 'started' | 'done' };
}

const lockOf = (e: RunningEntry): UniqueRef | undefined => (e.unique ? { key: e.unique.key, jid: e.unique.jid } : undefined);
const locksOf = (entries: RunningEntry[]) => (entries.some((e) => e.unique) ? entries.map(lockOf) : undefined);

/** How the queue worker takes part in acks: refilling freed slots in the same script call. */
export interface Refill {
  /** Jobs to fetch along with acking `acked` jobs (0 = none). */
  want(acked: number): number;
  /** Reconnects so far: read when the ack is sent, handed back to `take` with its refill. */
  epoch(): number;
  take(jobs: Buffer[], epoch: number): void;
}

export class Settler {
  private ackBuffer: { entry: RunningEntry; resolve: () => void }[] = [];
  private ackScheduled = false;
  /** The node's in-progress list of this queue as this worker filled it (positions for the acks). */
  private readonly held = new HeldOrder<RunningEntry>();
  /** Settle writes in flight (shutdown waits for them). */
  readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly queue: string,
    private readonly node: string,
    private readonly config: Config,
    private readonly scripts: Scripts,
    private readonly log: Logger,
    private readonly events: SettleEvents,
    private readonly refill: Refill,
  ) {}

  /** Keeps track of a settle write so shutdown can wait for it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    return p.finally(() => this.inFlight.delete(p));
  }

  /** A job just fetched (call in the order the fetch returned them). */
  hold(entry: RunningEntry): void {
    this.held.add(entry);
  }

  /** Jobs that left the in-progress list without a settle write (handed back). */
  forget(entries: Iterable<RunningEntry>): void {
    this.held.drop(entries);
  }

  ack(entry: RunningEntry): Promise<void> {
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
    const want = this.refill.want(batch.length);
    const direct = this.held.size <= SCRIPT_BOUNDS.ackDirectUpTo;
    const at = this.held.take(batch.map((b) => b.entry));
    const calls = planAcks(batch.map((b) => ({ entry: b.entry, raw: b.entry.raw, text: b.entry.text, pos: at.get(b.entry) ?? 0, direct })));
    if (calls.length === 0) calls.push({ entries: [], refs: [] });
    // Sent together (one pipeline on the connection): Redis runs them one after another, other
    // clients in between; the refill rides on the first, so its jobs start as soon as it answers.
    let removed = 0;
    let alive = true;
    let fenced = false;
    const since = this.scripts.durable ? epochOf(this.scripts.redis) : 0;
    const sentAt = this.refill.epoch();
    const retry: RunningEntry[] = [];
    const note = (call: AckCall<RunningEntry>, res: AckResult) => {
      removed += res.removed;
      if (res.removed + res.missing.length < call.entries.length) alive &&= res.alive;
      for (const i of res.missing) retry.push(call.entries[i]);
    };
    await Promise.all(
      calls.map(async (call, i) => {
        const res = await this.retrying('ack', () => this.scripts.ack(this.queue, this.node, call.refs, i === 0 ? want : 0, this.tagsOf(call.entries)));
        note(call, res);
        if (res.refill === 'fenced') fenced = true;
        if (res.jobs.length) this.refill.take(res.jobs, sentAt);
      }),
    );
    // Jobs named by hash and not found where expected: by their bytes (searched), so none is left unacked.
    if (retry.length) {
      const fallback = planAcks(retry.map((entry) => ({ entry, raw: entry.raw, text: entry.text, pos: 0 })));
      await Promise.all(
        fallback.map(async (call) => note(call, await this.retrying('ack', () => this.scripts.ack(this.queue, this.node, call.refs, 0, this.tagsOf(call.entries))))),
      );
    }
    // durability 'replicated': a replica confirms the acks; after a reconnect they are sent again by bytes.
    if (this.scripts.durable) await confirmWrite(this.scripts.redis, since, 'ack', () => this.reack(batch.map((b) => b.entry)), this.scripts.durable);
    const now = Date.now();
    const debug = this.config.logLevel === 'debug';
    for (const b of batch) {
      this.events.onSettled(this.queue, 'processed', now - b.entry.startedAt);
      if (debug) this.log.debug('job done', { queue: this.queue, jid: b.entry.jid, class: b.entry.class, duration_ms: now - b.entry.startedAt });
    }
    if (removed < batch.length) this.rejected(batch.length - removed, alive, 'ack');
    // A refusal answered after a reconnect may come from a new primary that lost the registration
    // its supervisor is registering again: not trusted (the supervisor's heartbeat fences for real).
    else if (fenced && this.refill.epoch() === sentAt) this.events.onFenced('refill refused: the node is no longer registered');
    for (const b of batch) b.resolve();
  }

  /** Acks again by bytes (the job is searched): changes nothing where the first ack holds. */
  private async reack(entries: RunningEntry[]): Promise<void> {
    const calls = planAcks(entries.map((entry) => ({ entry, raw: entry.raw, text: entry.text, pos: 0 })));
    await Promise.all(calls.map((call) => this.scripts.ack(this.queue, this.node, call.refs, 0, this.tagsOf(call.entries))));
  }

  /**
   * What an ack names besides the jobs: a limited queue's job identities (their slot records,
   * docs/limits.md) and the unique locks to release (docs/unique-jobs.md); neither for other jobs.
   */
  private tagsOf(entries: RunningEntry[]): AckTags {
    const ids = this.scripts.limited(this.queue) ? entries.map((e) => (e.identity ??= payloadIdentity(e.raw))) : undefined;
    return { ids, locks: locksOf(entries) };
  }

  async fail(entry: RunningEntry, job: Job, error: Error, handler: Handler | undefined): Promise<void> {
    if (entry.closed) return;
    entry.closed = true;
    const cfg = this.config;
    const nowS = Date.now() / 1000;
    const { payload, retryCount } = failedPayload(job, {
      errorClass: error.name || 'Error',
      errorMessage: error.message,
      backtrace: backtraceOf(error, cfg.backtraceLines),
      nowSeconds: nowS,
    });
    const decision = decideFailure(job, retryCount, error, handler, cfg.maxRetries);
    this.held.drop([entry]);
    const res = await this.retrying('failure', () =>
      this.scripts.fail({
        queue: this.queue,
        node: this.node,
        raw: entry.raw,
        mode: decision.mode,
        payload,
        score: decision.mode === 'retry' ? nowS + decision.delaySeconds : nowS,
        deadMinScore: nowS - cfg.deadTimeout / 1000,
        deadMaxJobs: cfg.deadMaxJobs,
        unique: lockOf(entry),
      }),
    );
    const result = decision.mode === 'retry' ? 'retried' : decision.mode === 'dead' ? 'dead' : 'dropped';
    this.events.onSettled(this.queue, 'failed', Date.now() - entry.startedAt);
    if (res === 'settled') {
      this.events.onSettled(this.queue, result, 0);
      this.log.warn(`job failed; ${result}`, {
        queue: this.queue,
        jid: job.jid,
        class: job.class,
        error: `${error.name}: ${error.message}`,
        retry_count: retryCount,
        duration_ms: Date.now() - entry.startedAt,
        ...(decision.mode === 'retry' ? { retry_in_s: decision.delaySeconds } : {}),
      });
    } else this.rejected(1, res === 'not_held', 'failure');
  }

  /**
   * A job whose `args` is not an array is not run: it goes to dead with Sidekiq's failure fields
   * (error_class Verk::InvalidArgs), counted as failed and dead.
   */
  async buryInvalidArgs(entry: RunningEntry, job: Job, why: string): Promise<void> {
    entry.closed = true;
    const nowS = Date.now() / 1000;
    const { payload } = failedPayload(job, { errorClass: INVALID_ARGS_ERROR, errorMessage: why, backtrace: [], nowSeconds: nowS });
    const res = await this.bury(entry, payload, nowS);
    if (res !== 'settled') return this.rejected(1, res === 'not_held', 'failure');
    this.events.onSettled(this.queue, 'failed', 0);
    this.events.onSettled(this.queue, 'dead', 0);
    this.log.error('job not run: its args are not an array; moved to dead', { queue: this.queue, jid: job.jid, class: job.class, error: why });
  }

  /** A payload that cannot be decoded goes to dead as its exact bytes; the reason is kept aside. */
  async buryMalformed(entry: RunningEntry, why: string): Promise<void> {
    entry.closed = true;
    const nowS = Date.now() / 1000;
    const res = await this.bury(entry, entry.raw, nowS);
    if (res !== 'settled') return this.rejected(1, res === 'not_held', 'failure');
    await this.scripts.recordMalformed(this.queue, this.node, entry.raw, why, nowS);
    this.events.onSettled(this.queue, 'dead', 0);
    this.log.error('malformed payload moved to dead as its exact bytes', { queue: this.queue, error: why, preview: entry.raw.toString('utf8', 0, 200) });
  }

  private bury(entry: RunningEntry, payload: Buffer | string, nowS: number) {
    const cfg = this.config;
    this.held.drop([entry]);
    return this.retrying('failure', () =>
      this.scripts.fail({
        queue: this.queue,
        node: this.node,
        raw: entry.raw,
        mode: 'dead',
        payload,
        score: nowS,
        deadMinScore: nowS - cfg.deadTimeout / 1000,
        deadMaxJobs: cfg.deadMaxJobs,
        unique: lockOf(entry),
      }),
    );
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
        if (attempt === 0) this.log.warn(`${what} write failed; retrying until Redis answers`, { queue: this.queue, error: (err as Error).message });
        await sleep(backoffMs(attempt, 100, 2000));
      }
    }
  }

  rejected(count: number, nodeAlive: boolean, what: string): void {
    this.events.onRejected(count);
    this.log.warn(`${what} refused: this node no longer holds the job (it was handed back)`, { queue: this.queue, count });
    if (!nodeAlive) this.events.onFenced(`${what} refused: the node is no longer registered`);
  }
}
