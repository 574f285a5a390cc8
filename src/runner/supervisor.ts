// The supervisor (`verk work`): keeps `processes` worker processes running (each its own node
// with a fresh id, registered before it is forked), hands a dead one's jobs back at once and
// replaces it, and runs the duties (heartbeat, pool watch, reaper, scheduler, Sidekiq registry).
// Every step that needs Redis is retried with backoff until Redis accepts it, so a Redis outage,
// OOM or failover never leaves it with fewer workers for good (docs/reliability.md). Signals
// are src/runner/signals.ts's; the health server sees it through SupervisorView.
import { hashTagOf } from '../config/shard-worlds.js';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { connectRedis } from '../redis/connection.js';
import { checkDatabase, guardDatabase } from '../redis/database-check.js';
import { evictionWarning, readEvictionPolicy } from '../redis/eviction.js';
import { parseRedisUrl } from '../util/redis-url.js';
import { makeKeys, type Keys } from '../redis/keys.js';
import { Scripts } from '../redis/scripts.js';
import { durableOptions } from '../redis/replication.js';
import { monotonicMs, systemMonotonicMs } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { backoffMs, sleep } from '../util/sleep.js';
import { VERSION } from '../version.js';
import { buildDuties, type Duties } from './duties.js';
import { DutyRunner } from './duty-runner.js';
import { handBackExited } from './hand-back.js';
import { NodeRecords } from './node-records.js';
import { FailoverWatch } from './failover-watch.js';
import { takeOverFixedId } from './fixed-id.js';
import type { ChildCounters } from './ipc.js';
import { CrashLoopBackoff, JobTotals } from './job-totals.js';
import type { SupervisorState, SupervisorView } from './supervisor-view.js';
import { ForkedPool, type PoolChild, type ProcessPool } from './worker-pool.js';

export type { SupervisorState, SupervisorView } from './supervisor-view.js';

/** Sidekiq's daily counter keys end in a UTC date (stat:processed:<YYYY-MM-DD>). */
const DATE_NAME = /^\d{4}-\d{2}-\d{2}$/;

export interface SupervisorDeps {
  /** The worker processes (default: forked worker-entry.js processes). */
  pool?: ProcessPool;
}

export class Supervisor implements SupervisorView {
  state: SupervisorState = 'starting';
  recovered = 0;
  /** Worker exits whose hand-back is still being written (a pool drops a child from its map first). */
  private readonly exitsInFlight = new Set<Promise<void>>();
  /** Redis's maxmemory-policy as read at start, and the warning it deserves (undefined: safe). */
  evictionPolicy = 'unknown';
  evictionWarning: string | undefined;
  readonly redis: Redis;
  readonly scripts: Scripts;
  readonly pool: ProcessPool;
  readonly duties: Duties;
  readonly totals = new JobTotals();
  readonly identity: string;
  readonly failover: FailoverWatch;
  private readonly runner: DutyRunner;
  private readonly nodes: NodeRecords;
  private readonly backoff = new CrashLoopBackoff(monotonicMs);
  private shortSince: number | undefined = monotonicMs();
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private replenishing: Promise<void> | undefined;
  private replaceDelay = 0;
  private spawnError: string | undefined;
  private signalsSeen = 0;
  /** Aborted by stop(): ends every backoff wait at once. */
  private readonly halt = new AbortController();

  constructor(
    readonly config: Config,
    private readonly log: Logger,
    deps: SupervisorDeps = {},
  ) {
    this.redis = connectRedis(config.redisUrl, {
      name: 'verk:supervisor',
      log,
      autoPipeline: true,
      commandTimeoutMs: config.redisCommandTimeout,
      sentinelPassword: config.sentinelPassword,
      slotTag: hashTagOf(config.prefix),
    });
    this.scripts = new Scripts(this.redis, makeKeys(config.prefix), durableOptions(config, log), Array.isArray(config.limits) ? config.limits : []);
    this.nodes = new NodeRecords({
      config,
      scripts: this.scripts,
      log,
      identity: () => this.identity,
      infoTtl: () => this.duties.heartbeat.infoTtl,
      reaper: () => this.duties.reaper,
    });
    this.pool = deps.pool ?? new ForkedPool(log);
    this.pool.onExit((child, code, signal) => {
      // Tracked: a stop waits for every exit being handled (its hand-back, its event) before it closes Redis.
      const handled = this.onExit(child, code, signal).finally(() => this.exitsInFlight.delete(handled));
      this.exitsInFlight.add(handled);
      return handled;
    });
    this.duties = buildDuties({
      config,
      log,
      scripts: this.scripts,
      redis: this.redis,
      pool: this.pool,
      reaperId: `${this.nodes.base}-supervisor-${process.pid}`,
      beating: () => [...this.pool.children.values()].map((c) => ({ id: c.id, info: () => infoOf(c) })),
      heartbeatEvents: {
        // Unless a failover lost the registration: then the node is registered again (failover-watch.ts).
        onRefused: (id) => void this.failover.keepAfterRefusal(id).then((kept) => kept || this.fence(id, 'heartbeat refused: the node was reaped')),
        onStale: (ids) => ids.forEach((id) => this.fence(id, `heartbeat not renewed for ${this.duties.heartbeat.fenceAfter}ms: its lease may expire`)),
        // The process starts a job only before this point (src/core/lease.ts).
        onRenewed: (id, fenceInMs) => this.pool.send(id, { type: 'lease', until: systemMonotonicMs() + fenceInMs }),
      },
      sidekiqHost: this,
    });
    this.identity = this.duties.sidekiq.identity;
    this.failover = new FailoverWatch({
      redis: this.redis,
      scripts: this.scripts,
      config,
      log,
      nodes: () => [...this.pool.children.keys()],
      register: async (id) => {
        const sentAt = monotonicMs();
        await this.nodes.register(id);
        this.duties.heartbeat.renewed(id, sentAt);
      },
    });
    this.failover.attach();
    guardDatabase(this.redis, parseRedisUrl(config.redisUrl).db, (err) => {
      log.error(err.message);
      process.exitCode = 78;
      void this.stop().then(() => process.exit(78));
    });
    this.runner = new DutyRunner(log, (name, r) => {
      if (name === 'reaper') this.recovered += r.moved ?? 0;
    });
  }

  get keys(): Keys {
    return this.scripts.keys;
  }

  /** The limits' audit (its fixes are a metric). */
  get limitAudit() {
    return this.duties.limitAudit;
  }

  get cron() {
    return this.duties.cron;
  }

  get uniqueSweeper() {
    return this.duties.uniqueSweeper;
  }

  /** For the Sidekiq registry: live children by node id. */
  get children(): ReadonlyMap<string, PoolChild> {
    return this.pool.children;
  }

  workers(): readonly PoolChild[] {
    return [...this.pool.children.values()];
  }

  heartbeatAge(): number {
    const hb = this.duties.heartbeat;
    // Short of worker processes (fenced ones exited, replacements not registered: Redis gone),
    // the age of the last successful renewal of any node tells that leases cannot be renewed.
    const short = this.pool.children.size < this.config.processes && !this.halted;
    return short ? Math.max(hb.oldestAge(), monotonicMs() - hb.lastSuccessAt) : hb.oldestAge();
  }

  loopAge(): number {
    return monotonicMs() - this.duties.poolWatch.lastRoundAt;
  }

  shortfallMs(): number {
    return this.shortSince === undefined ? 0 : monotonicMs() - this.shortSince;
  }

  counters(): ChildCounters[] {
    return this.totals.all(this.pool.children.values());
  }

  private get halted(): boolean {
    return this.state === 'stopping' || this.state === 'stopped';
  }

  /** Connects (retrying with backoff), takes back a fixed id's old jobs, starts the processes and duties. */
  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    await this.waitForRedis();
    const c = this.config;
    // Nothing is written before the database of the URL is known to exist (ioredis would go on in db 0).
    if (!this.halted) await checkDatabase(this.redis, c.redisUrl);
    if (!this.halted) await this.checkEviction();
    if (!this.halted && c.fixedNodeId)
      await takeOverFixedId(c.nodeId, { config: c, scripts: this.scripts, reaper: this.duties.reaper, log: this.log, halt: this.halt.signal });
    while (!this.halted && this.pool.children.size < c.processes) {
      if (!(await this.spawnOne())) break;
    }
    if (this.halted) return;
    this.runner.start(this.duties.list);
    this.state = 'running';
    this.updateShortfall();
    if (this.pool.children.size < c.processes) void this.replenish();
    this.log.info('verk work started', { processes: c.processes, queues: c.queues.map((q) => `${q.name}:${q.concurrency}`).join(','), version: VERSION });
    const dated = c.queues.filter((q) => DATE_NAME.test(q.name)).map((q) => q.name);
    if (dated.length)
      this.log.warn("a queue named like a date shares its stat:processed:<q> counter with Sidekiq's daily counter of that day (docs/redis.md)", {
        queues: dated.join(','),
      });
  }

  /** Warns once at start when Redis may evict keys (queued jobs would vanish without a word). */
  private async checkEviction(): Promise<void> {
    this.evictionPolicy = await readEvictionPolicy(this.redis).catch(() => 'unknown');
    this.evictionWarning = evictionWarning(this.evictionPolicy);
    if (this.evictionWarning) this.log.warn(this.evictionWarning, { maxmemory_policy: this.evictionPolicy });
  }

  private async waitForRedis(): Promise<void> {
    for (let attempt = 0; !this.halted; attempt++) {
      try {
        await this.redis.ping();
        return;
      } catch {
        await sleep(backoffMs(attempt, 100, 5000), this.halt.signal);
      }
    }
  }

  /**
   * Registers a fresh node id, then forks its worker process. False when Redis refused the
   * registration or the fork failed (the caller retries with backoff) or a stop came meanwhile
   * (then the registration is withdrawn, so nothing is left behind).
   */
  private async spawnOne(): Promise<boolean> {
    const c = this.config;
    const id = this.nodes.newId();
    const sentAt = monotonicMs();
    try {
      await this.nodes.register(id);
    } catch (err) {
      const msg = (err as Error).message;
      if (this.spawnError !== msg) this.log.warn('could not register a worker process; retrying with backoff', { error: msg });
      this.spawnError = msg;
      return false;
    }
    if (this.halted) {
      await this.nodes.withdraw(id);
      return false;
    }
    this.duties.heartbeat.renewed(id, sentAt);
    try {
      const fenceIn = this.duties.heartbeat.fenceInMs(id);
      this.pool.fork(id, c, fenceIn === undefined ? undefined : systemMonotonicMs() + fenceIn);
    } catch (err) {
      this.log.error('could not start a worker process; retrying with backoff', { node: id, error: (err as Error).message });
      this.duties.heartbeat.forget(id);
      await this.nodes.withdraw(id);
      return false;
    }
    this.nodes.record('joined', id, `queues ${c.queues.map((q) => `${q.name}:${q.concurrency}`).join(',')}`);
    if (this.spawnError !== undefined) this.log.info('worker process registered again', { node: id, error_was: this.spawnError });
    this.spawnError = undefined;
    if (this.state === 'quiet') this.pool.send(id, { type: 'quiet' });
    this.updateShortfall();
    return true;
  }

  /** Brings the pool back to `processes`, retrying with backoff (crash loops and refused registrations). */
  private replenish(): void {
    this.replenishing ??= (async () => {
      for (let failures = 0; !this.halted && this.pool.children.size < this.config.processes; ) {
        const delay = Math.max(this.replaceDelay, failures === 0 ? 0 : backoffMs(failures - 1, 250, 10_000));
        this.replaceDelay = 0;
        if (delay) await sleep(delay, this.halt.signal);
        if (this.halted) break;
        failures = (await this.spawnOne()) ? 0 : failures + 1;
      }
    })().finally(() => {
      this.replenishing = undefined;
      this.updateShortfall();
    });
  }

  /** A worker process ended: hand its jobs back now (no TTL wait) and start a replacement. */
  private async onExit(child: PoolChild, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.duties.heartbeat.forget(child.id);
    this.totals.addExited(child.counters);
    this.updateShortfall();
    const graceful = code === 0 && this.halted;
    const count = !graceful && !child.fenced;
    const r = await handBackExited(
      child,
      { code, signal },
      { graceful, count },
      {
        reaper: this.duties.reaper,
        log: this.log,
        nodeTtl: this.config.nodeTtl,
        stopping: () => this.halted,
      },
    );
    this.recovered += r;
    this.nodes.record(
      graceful ? 'left' : 'exited',
      child.id,
      graceful ? '' : `${signal ? `signal ${signal}` : `code ${code}`}${child.fenced ? ', fenced' : ''}; ${r} jobs handed back`,
    );
    if (this.halted) return;
    this.replaceDelay = Math.max(this.replaceDelay, this.backoff.died());
    // During start-up the start loop fills the pool (and replenishes at its end if it falls short).
    if (this.state !== 'starting') this.replenish();
  }

  private fence(id: string, reason: string): void {
    const child = this.pool.children.get(id);
    if (!child || child.fenced) return;
    child.fenced = true;
    this.pool.send(id, { type: 'fence', reason });
    this.nodes.record('fenced', id, reason);
  }

  private updateShortfall(): void {
    const short = this.pool.children.size < this.config.processes && !this.halted;
    if (!short) this.shortSince = undefined;
    else this.shortSince ??= monotonicMs();
  }

  quiet(): void {
    if (this.state !== 'running') return;
    this.state = 'quiet';
    this.log.info('quiet: no new jobs will be fetched; running jobs finish');
    this.pool.sendAll({ type: 'quiet' });
  }

  /** Graceful stop; a second call makes the children hand their jobs back at once. */
  stop(): Promise<void> {
    this.signalsSeen++;
    if (this.stopping) {
      if (this.signalsSeen === 2) {
        this.log.warn('second signal: handing running jobs back now');
        this.pool.sendAll({ type: 'shutdown', deadlineMs: 0 });
      }
      return this.stopping;
    }
    this.state = 'stopping';
    this.halt.abort();
    this.updateShortfall();
    this.log.info('stopping: no new jobs; waiting for running jobs', { timeout_ms: this.config.shutdownTimeout });
    this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    // The children's deadlines start now, not after a registration in flight: a start or a
    // replenish in progress sees `stopping`, forks nothing more and withdraws what it registered.
    const deadlineMs = this.signalsSeen > 1 ? 0 : this.config.shutdownTimeout;
    this.pool.sendAll({ type: 'shutdown', deadlineMs });
    await this.starting?.catch(() => undefined);
    await this.replenishing;
    // A child that does not exit by the deadline (plus grace for hand-back) is killed; its jobs are handed back on exit.
    const hard = setTimeout(() => this.pool.killAll('SIGKILL'), this.config.shutdownTimeout + Math.max(this.config.killGrace, 2000));
    await Promise.all(this.workers().map((c) => c.exited));
    // A child that exited before the line above was out of the pool's map already, its hand-back maybe not written.
    await Promise.allSettled([...this.exitsInFlight]);
    clearTimeout(hard);
    await this.runner.stop();
    // Bounded: with Redis down a write would wait for it forever and the pod would hang in Terminating.
    const left = this.duties.sidekiq.stop().catch((err) => this.log.warn('could not leave the Sidekiq process registry cleanly', { error: (err as Error).message }));
    await Promise.race([left, sleep(1000)]);
    this.state = 'stopped';
    await Promise.race([this.redis.quit().catch(() => undefined), sleep(1000)]);
    this.redis.disconnect();
    this.log.info('verk work stopped');
  }
}

/** The node's metadata for its heartbeat; running jobs without their args (those go to Sidekiq's workers hash only). */
function infoOf(c: PoolChild): Record<string, string | number> {
  const running = c.running.slice(0, 1000).map(({ args: _args, ...job }) => job);
  return { pid: c.pid, busy: c.busy, rss: c.rss, state: c.state, running: JSON.stringify(running) };
}
