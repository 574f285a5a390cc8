// One queue inside one worker process: fetches up to `concurrency` jobs at a time (blocking on
// an empty queue instead of polling) and hands each to the JobLauncher (src/core/job-launcher.ts),
// which runs it and gives the outcome to the Settler. Payloads stay the bytes that were fetched
// (every write names the job by them). On shutdown or fencing it hands unsettled jobs back;
// after a reconnect it hands back jobs it holds but is not running. Jobs a fetch returns after a
// reconnect are not started (the command was sent again on the new connection, maybe to a new
// primary that still had queued the jobs this node runs): the reconcile sorts them out.
import type { Redis } from 'ioredis';
import type { Config, QueueConfig } from '../config/schema.js';
import { argsPreview } from '../job/args-preview.js';
import { payloadIdentity } from '../job/identity.js';
import type { FetchResult, Scripts } from '../redis/scripts.js';
import { epochOf } from '../redis/replication.js';
import type { Logger } from '../util/logger.js';
import { backoffMs, sleep } from '../util/sleep.js';
import type { IsolationGate } from './isolation.js';
import type { NodeLease } from './lease.js';
import { Settler, type RunningEntry } from './settler.js';
import { GATE_POLL_MS, JobLauncher, type QueueWorkerEvents } from './job-launcher.js';
import type { HandlerRegistry } from './handlers.js';
import { reconcileHeld } from './reconcile.js';

export type { RunningEntry } from './settler.js';
export type { QueueWorkerEvents } from './job-launcher.js';

/** One started job as a worker process reports it (IPC `pong`): args is JSON text, bounded. */
export interface RunningSnapshot {
  jid: string;
  class: string;
  queue: string;
  started_at: number;
  args: string;
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
  gate: IsolationGate;
  /** A handler starts only while the node's lease is held (src/core/lease.ts). */
  lease: NodeLease;
}

export class QueueWorker {
  readonly running = new Set<RunningEntry>();
  private readonly settler: Settler;
  private stopped = false;
  private firstFetch = true;
  private loopDone: Promise<void> | undefined;
  private slotWaiter: (() => void) | undefined;
  /** Ends the idle BLMOVE wait at once (it takes no job, so it can simply be abandoned). */
  private idleWaiter: (() => void) | undefined;
  private reconcileNeeded = false;
  /** Reconciles requested from outside (reconnects): one asked during a reconcile runs again. */
  private reconcileAsks = 0;
  /** Jobs fetched in replies that came after a reconnect, held and not started: the reconcile decides. */
  private unstarted: Buffer[] = [];
  /** Per connection (script, blocking): its epochOf at its first connect (a reconnect is beyond it). */
  private readonly firstEpochs: [number, number];
  private reconcileErrors = 0;
  /** Fetches that failed in a row (the retry backs off: 250 ms doubling to 2 s, as reconnects do). */
  private fetchErrors = 0;
  /** The last fetch found the queue empty: the next one waits for a job first. */
  private idle = false;
  /** Scripts on the blocking connection: the wait for jobs and the fetch behind it. */
  private readonly wakeScripts: Scripts;
  /** Runs what the fetches return (src/core/job-launcher.ts). */
  private readonly launcher: JobLauncher;
  /** The queue has a cluster-wide limit (src/redis/limit-calls.ts). */
  private readonly limited: boolean;
  /** Jobs the pending idle wait may claim (0 when none is pending). */
  private waitReserved = 0;

  constructor(private readonly d: QueueWorkerDeps) {
    this.wakeScripts = d.scripts.on(d.blocking);
    this.limited = d.scripts.limited(d.queue.name);
    const first = (redis: Redis) => epochOf(redis) + (redis.status === 'ready' ? 0 : 1);
    this.firstEpochs = [first(d.scripts.redis), first(d.blocking)];
    this.settler = new Settler(d.queue.name, d.node, d.config, d.scripts, d.log, d.events, {
      // Slots the acked jobs free up, refilled in the ack's own script call (not while the
      // queue is empty: then the loop is waiting for a job and fetches it itself).
      // Nor before a pending reconcile has run (after a failover it takes back running jobs whose fetch was undone first).
      // A limited queue refills while idle too: its parked jobs wait for exactly the slot this ack
      // frees (docs/limits.md); the jobs the pending wait may claim are kept free for it.
      want: (acked) =>
        this.stopped || (this.idle && !this.limited) || this.d.gate.closed || this.reconcileNeeded
          ? 0
          : Math.max(0, d.queue.concurrency - this.running.size - this.waitReserved + acked),
      epoch: () => this.reconnects,
      take: (jobs, epoch) => this.startFetched(jobs, this.reconnects === epoch),
    });
    this.launcher = new JobLauncher(d, this.running, this.settler, () => this.slotWaiter?.());
  }

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
    this.idleWaiter?.();
    // During a Redis outage ioredis neither settles a pending BLMOVE on disconnect() nor stops
    // reconnecting, so the wait above is ended by idleWaiter rather than by this.
    this.d.blocking.disconnect();
    // A fetch may have been pipelined behind an abandoned wait: its jobs would be held unseen.
    if (this.idle) this.reconcileNeeded = true;
    await this.loopDone?.catch(() => undefined);
  }

  /** Runs a pending reconcile now (after quiet: the loop that would run it has stopped). */
  async reconcileIfNeeded(): Promise<void> {
    if (this.reconcileNeeded)
      await this.reconcile().catch((err) =>
        this.d.log.warn('reconcile failed; the jobs it would hand back stay held until this node stops', { queue: this.name, error: (err as Error).message }),
      );
  }

  /**
   * After a reconnect: hand back anything in our list that we are not running (a lost fetch
   * reply), and take back running jobs a failover put back in the queue. Runs at once, even with
   * every slot busy: a job that finished before it would be acked where it no longer is and run
   * again from the queue.
   */
  requestReconcile(): void {
    this.reconcileNeeded = true;
    this.reconcileAsks++;
    this.slotWaiter?.();
  }

  /** Resolves when every settle write (ack, failure) begun so far is done; handlers may still run. */
  async settleWrites(): Promise<void> {
    while (this.settler.inFlight.size > 0) await Promise.allSettled([...this.settler.inFlight]);
  }

  /** Resolves when no handler of this queue is running and every settle write is done. */
  async drained(): Promise<void> {
    while (this.running.size > 0 || this.settler.inFlight.size > 0) {
      const waits: Promise<unknown>[] = [...this.running].map((e) => e.run?.finished ?? sleep(10));
      await Promise.race(waits.concat([...this.settler.inFlight]));
      await new Promise((r) => setImmediate(r));
    }
  }

  /**
   * Hands every unsettled job back to the front of its queue without spending a retry and
   * aborts its signal (shutdown deadline, fencing, recycle). Returns how many went back.
   */
  async handBack(reason: string): Promise<number> {
    const open = [...this.running].filter((e) => !e.closed);
    for (const e of open) {
      e.closed = true;
      e.run?.abort(new Error(reason));
    }
    this.settler.forget(open);
    // Newest first, so the job that started first ends up next in line.
    const moved = await this.d.scripts.handback(
      this.name,
      this.d.node,
      open.reverse().map((e) => e.raw),
    );
    // Jobs no longer held were taken over by a reaper: this node's write for them is refused.
    if (moved < open.length) this.d.events.onRejected(open.length - moved);
    return moved;
  }

  /**
   * The jobs whose handler has started (the node's `running` info): jid is the payload's
   * identity; args is the bounded preview for Sidekiq's Busy page, read once per job.
   */
  snapshot(): RunningSnapshot[] {
    const out: RunningSnapshot[] = [];
    for (const e of this.running) {
      if (!e.started) continue;
      e.identity ??= payloadIdentity(e.raw);
      e.argsPreview ??= e.text === undefined ? '[]' : argsPreview(e.text);
      out.push({ jid: e.identity, class: e.class, queue: e.queue, started_at: e.startedAt, args: e.argsPreview });
    }
    return out;
  }

  private async loop(): Promise<void> {
    const { queue, scripts, node, log } = this.d;
    while (!this.stopped) {
      if (this.reconcileNeeded) {
        try {
          await this.reconcile();
          this.reconcileErrors = 0;
        } catch (err) {
          // Still needed: retried before the next fetch, with backoff (a full or read-only Redis).
          if (this.stopped) break;
          if (this.reconcileErrors++ === 0) log.warn('reconcile after a reconnect failed; retrying', { queue: queue.name, error: (err as Error).message });
          await sleep(backoffMs(this.reconcileErrors, 250, 5000));
          continue;
        }
      }
      const free = queue.concurrency - this.running.size;
      if (free <= 0) {
        await new Promise<void>((r) => (this.slotWaiter = r));
        this.slotWaiter = undefined;
        continue;
      }
      if (this.d.gate.closed) {
        await sleep(GATE_POLL_MS);
        continue;
      }
      let res: FetchResult | undefined;
      try {
        // An empty queue (after the first fetch) is waited on, with the fetch pipelined behind the wait.
        const epoch = this.reconnects;
        res = this.idle && !this.firstFetch ? await this.waitForJobs(free) : await scripts.fetch(queue.name, node, free, this.firstFetch);
        if (!res) continue;
        if (this.reconnects !== epoch) {
          // Answered after a reconnect, maybe by a new primary: trust neither its jobs nor its refusal.
          if (res.status === 'ok') this.startFetched(res.jobs, false);
          this.reconcileNeeded = true;
          this.idle = false;
          continue;
        }
        this.fetchErrors = 0;
      } catch (err) {
        if (this.stopped) break;
        if (this.fetchErrors++ === 0) log.warn('fetch failed; retrying with backoff', { queue: queue.name, error: (err as Error).message });
        await sleep(backoffMs(this.fetchErrors - 1, 250, 2000));
        continue;
      }
      if (res.status === 'fenced') {
        this.d.events.onFenced(`fetch from ${queue.name} refused: the node is no longer registered`);
        return;
      }
      if (res.status === 'paused') {
        // Looked at again after blockTimeout: a resumed queue is served within it, and a paused
        // queue with a backlog costs the fleet one wait per node per blockTimeout, not a spin.
        await sleep(this.d.config.blockTimeout);
        continue;
      }
      this.firstFetch = false;
      // A limited queue's fetch may stop at its park bound with jobs left to sort: then not idle.
      this.idle = res.jobs.length === 0 && res.more !== true;
      this.startFetched(res.jobs, true);
    }
  }

  /** Reconnects of the script and the blocking connection so far (their first connect is not one). */
  private get reconnects(): number {
    const [a, b] = this.firstEpochs;
    return Math.max(0, epochOf(this.d.scripts.redis) - a) + Math.max(0, epochOf(this.d.blocking) - b);
  }

  /**
   * Starts fetched jobs. When `fresh` is false (the fetch was answered after a reconnect: sent
   * again on the new connection, and after a failover the new primary may still have queued a job
   * this node runs), a job with the same bytes as one running stays held, unstarted: the
   * reconcile matches it with the held copies and starts it only if one is left for it.
   */
  private startFetched(jobs: Buffer[], fresh: boolean): void {
    const runs = fresh ? undefined : new Set([...this.running].map((e) => e.raw.toString('latin1')));
    for (const raw of jobs) {
      if (runs?.has(raw.toString('latin1'))) {
        this.unstarted.push(raw);
        this.reconcileNeeded = true;
        this.reconcileAsks++;
      } else this.startJob(raw);
    }
  }

  /**
   * Blocks until the queue has a job (or blockTimeout passes) and claims it in the same
   * pipeline, with up to free - 1 more. Returns undefined when the wait was abandoned because
   * fetching stops.
   */
  private async waitForJobs(free: number): Promise<FetchResult | undefined> {
    const woken = new Promise<undefined>((r) => (this.idleWaiter = () => r(undefined)));
    this.waitReserved = free;
    try {
      const res = await Promise.race([this.wakeScripts.waitAndClaim(this.name, this.d.node, free - 1, this.d.config.blockTimeout / 1000), woken]);
      if (res === undefined) return undefined;
      // A claim left by an earlier wait whose reply was lost is in the in-progress list now: reconcile.
      if (!res.consistent) this.reconcileNeeded = true;
      return res.status === 'ok' ? { status: 'ok', jobs: res.jobs, more: res.more } : { status: res.status, jobs: [] };
    } catch (err) {
      // The fetch pipelined behind the wait may have run with its reply lost (a half-open
      // blocking connection): compare what we hold with what we run before fetching again.
      this.reconcileNeeded = true;
      if (!this.stopped) await sleep(100);
      if (!this.stopped) throw err;
      return undefined;
    } finally {
      this.idleWaiter = undefined;
      this.waitReserved = 0;
    }
  }

  private startJob(raw: Buffer): void {
    this.launcher.start(raw);
  }

  private async reconcile(): Promise<void> {
    const asks = this.reconcileAsks;
    const fetched = this.unstarted.splice(0);
    let start: Buffer[];
    try {
      start = await reconcileHeld(this.d.scripts, this.name, this.d.node, this.running, this.d.log, fetched);
    } catch (err) {
      this.unstarted.unshift(...fetched);
      throw err;
    }
    if (this.reconcileAsks === asks) this.reconcileNeeded = false;
    // Held and ours: started, unless fetching has stopped (then they go back to the queue).
    if (!this.stopped) for (const raw of start) this.startJob(raw);
    else if (start.length > 0) await this.d.scripts.handback(this.name, this.d.node, start);
  }
}
