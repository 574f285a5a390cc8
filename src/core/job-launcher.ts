// One queue's job starts in a worker process: decodes a fetched payload into a running entry,
// sends what cannot run (malformed, bad args, unknown class) straight to its settle write, and
// runs the rest through its handler — recovered ("marked") jobs after their start record and one
// at a time, suspected poison pills alone in the process (IsolationGate), any job only while the
// node's lease is held, an until-started unique lock released as the handler starts — then hands
// the outcome to the Settler. The QueueWorker (src/core/queue-worker.ts) owns the fetching.
import type { Config, QueueConfig } from '../config/schema.js';
import { decodeJob, type Job } from '../job/codec.js';
import { isolateFrom } from '../redis/reap-options.js';
import type { Scripts } from '../redis/scripts.js';
import type { Logger } from '../util/logger.js';
import { sleep } from '../util/sleep.js';
import type { Handler, HandlerRegistry } from './handlers.js';
import type { IsolationGate } from './isolation.js';
import type { NodeLease } from './lease.js';
import { runJob } from './job-run.js';
import type { RunningEntry, SettleEvents, Settler } from './settler.js';
import { StartRecords } from './start-records.js';

export interface QueueWorkerEvents extends SettleEvents {
  /** A handler ignored its aborted signal for killGrace: the process must be recycled. */
  onIgnoredAbort(jid: string): void;
}

export interface JobLauncherDeps {
  queue: QueueConfig;
  node: string;
  config: Config;
  scripts: Scripts;
  registry: HandlerRegistry;
  log: Logger;
  events: QueueWorkerEvents;
  gate: IsolationGate;
  /** A handler starts only while the node's lease is held (src/core/lease.ts). */
  lease: NodeLease;
}

/** How often a job waiting for the isolation gate or a lease renewal looks again (ms). */
export const GATE_POLL_MS = 20;

export class JobLauncher {
  private readonly starts: StartRecords;
  /** Recovered jobs from this many recoveries on run alone. */
  private readonly isolateFrom: number;

  constructor(
    private readonly d: JobLauncherDeps,
    /** The queue worker's running entries: an entry is in it from its start until it is settled or handed back. */
    private readonly running: Set<RunningEntry>,
    private readonly settler: Settler,
    /** Called when a job leaves `running` (its slot is free). */
    private readonly onFree: () => void,
  ) {
    this.starts = new StartRecords(d.scripts.redis, d.scripts.keys.nodeStarted(d.node), d.log);
    this.isolateFrom = isolateFrom(d.config.maxRecoveries);
  }

  /** Starts (or settles at once) one fetched job; the slot is freed when it is settled or handed back. */
  start(raw: Buffer): void {
    const decoded = decodeJob(raw, this.d.queue.name);
    const entry: RunningEntry = {
      raw,
      text: decoded.ok ? decoded.job.raw : undefined,
      jid: decoded.ok ? decoded.job.jid : '',
      class: decoded.ok ? decoded.job.class : '',
      queue: this.d.queue.name,
      startedAt: Date.now(),
      started: false,
      closed: false,
    };
    const lock = decoded.ok ? decoded.job.unique : undefined;
    if (lock && lock.until !== 'ttl') entry.unique = { key: lock.key, jid: entry.jid, until: lock.until };
    this.running.add(entry);
    this.settler.hold(entry);
    const release = () => {
      this.running.delete(entry);
      this.onFree();
    };
    const { settler } = this;
    if (!decoded.ok) {
      void settler.track(settler.buryMalformed(entry, decoded.error)).finally(release);
      return;
    }
    const job = decoded.job;
    if (job.argsError !== undefined) {
      void settler.track(settler.buryInvalidArgs(entry, job, job.argsError)).finally(release);
      return;
    }
    const handler = this.d.registry.get(job.class);
    if (!handler) {
      void settler.track(settler.fail(entry, job, this.d.registry.failureFor(job.class), undefined)).finally(release);
      return;
    }
    if (job.recovered === undefined) {
      void this.launch(entry, job, handler).finally(release);
      return;
    }
    const start = () => this.startMarked(entry, job, handler);
    if (job.recovered >= this.isolateFrom) {
      this.d.log.warn('running a repeatedly recovered job alone in its process (suspected poison pill)', {
        queue: this.d.queue.name,
        jid: job.jid,
        class: job.class,
        recovered: job.recovered,
      });
      void this.d.gate.runAlone(start).finally(release);
    } else void start().finally(release);
  }

  /**
   * A marked job: in its turn (one marked job at a time in the process), its start record is
   * written and then its perform invoked at once; the next marked job's turn begins only then.
   * Resolves when the job is settled (its record is then removed) or handed back unstarted.
   */
  private async startMarked(entry: RunningEntry, job: Job, handler: Handler): Promise<void> {
    let running: Promise<void> | undefined;
    try {
      await this.d.gate.inTurn(async () => {
        if (await this.starts.record(entry)) running = this.launch(entry, job, handler);
      });
      if (running) return await running;
      if (!entry.closed) await this.handBackUnstarted(entry, job);
    } finally {
      this.starts.forget(entry);
    }
  }

  /** A marked job whose start record could not be written goes back to its queue, unstarted. */
  private async handBackUnstarted(entry: RunningEntry, job: Job): Promise<void> {
    entry.closed = true;
    this.settler.forget([entry]);
    const moved = await this.d.scripts.handback(this.d.queue.name, this.d.node, [entry.raw]).catch(() => -1);
    const fields = { queue: this.d.queue.name, jid: job.jid, class: job.class };
    if (moved === 1) this.d.log.warn('could not write the start record of a recovered job; handed it back unstarted', fields);
    else if (moved === 0) this.d.events.onRejected(1);
    else this.d.log.error('could not hand back a recovered job; it stays in progress and is recovered with this node', fields);
  }

  /**
   * Runs the handler and settles the outcome. Resolves once the handler has returned and its
   * settle write is done: until then the entry stays "ours", so a reconcile after a reconnect
   * never hands back a job whose ack is still in flight.
   */
  private async launch(entry: RunningEntry, job: Job, handler: Handler): Promise<void> {
    if (entry.closed) return; // handed back while it waited to run alone
    // The common case costs no await: only a lapsed lease waits (the hot path starts every job here).
    if (!this.d.lease.held() && !(await this.leaseHeld(entry))) return; // handed back while it waited for a renewal
    if (entry.unique?.until === 'started') await this.releaseAtStart(entry);
    if (entry.closed) return; // handed back while the lock was released
    entry.startedAt = Date.now();
    entry.started = true; // runJob invokes perform synchronously
    const log = () => this.d.log.child({ queue: this.d.queue.name, jid: job.jid, class: job.class });
    const run = runJob(job, handler, {
      timeoutMs: handler.timeoutMs ?? (this.d.queue.timeout || this.d.config.jobTimeout),
      killGraceMs: this.d.config.killGrace,
      onIgnoredAbort: () => this.d.events.onIgnoredAbort(job.jid),
      log,
      node: this.d.node,
    });
    entry.run = run;
    const settled = this.settler
      .track(run.outcome.then((outcome) => (outcome.ok ? this.settler.ack(entry) : this.settler.fail(entry, job, outcome.error, handler))))
      .catch((err) => log().error('could not settle job; it stays in progress and is recovered with this node', { error: (err as Error).message }));
    await Promise.all([run.finished, settled]);
  }

  /**
   * Waits while the node's lease has lapsed (a process thawed after a freeze past its TTL: its jobs
   * may be back in the queue and running elsewhere) until a renewal extends it or the job is handed
   * back (fencing, shutdown). True when the job may start.
   */
  private async leaseHeld(entry: RunningEntry): Promise<boolean> {
    if (!this.d.lease.held() && !entry.closed) {
      this.d.log.warn('the node lease has lapsed: holding the job back until a heartbeat renews it or the node is fenced', { queue: this.d.queue.name, jid: entry.jid });
      while (!this.d.lease.held() && !entry.closed) await sleep(GATE_POLL_MS);
    }
    return !entry.closed;
  }

  /**
   * until 'started': the lock goes as the handler starts (lua/unique-start-1.lua: only while this
   * node holds the job). A failed call is logged; the ack releases the lock then (compare-and-delete).
   */
  private async releaseAtStart(entry: RunningEntry): Promise<void> {
    const lock = entry.unique!;
    try {
      if ((await this.d.scripts.uniqueStart(this.d.queue.name, this.d.node, entry.raw, lock)) !== 'not_held') entry.unique = undefined;
    } catch (err) {
      this.d.log.warn('could not release the unique lock of a starting job; its ack releases it', {
        queue: this.d.queue.name,
        jid: entry.jid,
        error: (err as Error).message,
      });
    }
  }
}
