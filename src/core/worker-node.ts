// One verk node = one worker process: a QueueWorker per configured queue, sharing one Redis
// connection for scripts (auto-pipelined) and one blocking connection per queue. Owns the
// node's reactions: quiet, graceful shutdown with a deadline, fencing, recycling.
import { hashTagOf } from '../config/shard-worlds.js';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { connectRedis } from '../redis/connection.js';
import { makeKeys } from '../redis/keys.js';
import { Scripts } from '../redis/scripts.js';
import { durableOptions } from '../redis/replication.js';
import type { Logger } from '../util/logger.js';
import type { HandlerRegistry } from './handlers.js';
import { QueueWorker, type QueueWorkerEvents } from './queue-worker.js';
import { NodeLease } from './lease.js';
import { IsolationGate } from './isolation.js';
import { sleep } from '../util/sleep.js';
import { NODE_EXIT } from '../config/defaults.js';
import { guardDatabase } from '../redis/database-check.js';
import { parseRedisUrl } from '../util/redis-url.js';

export type NodeState = 'running' | 'quiet' | 'stopping' | 'fenced' | 'stopped';

export interface NodeCounters {
  processed: number;
  failed: number;
  retried: number;
  dead: number;
  dropped: number;
  rejected: number;
  perQueue: Record<string, { processed: number; failed: number; retried?: number; dead?: number; dropped?: number }>;
}

export interface NodeEvents {
  /** The node stopped for good and its process should exit (and be replaced unless shutting down). */
  onExit(reason: string, code: number): void;
}

export class WorkerNode {
  state: NodeState = 'running';
  readonly counters: NodeCounters = { processed: 0, failed: 0, retried: 0, dead: 0, dropped: 0, rejected: 0, perQueue: {} };
  readonly redis: Redis;
  private readonly scripts: Scripts;
  private readonly workers: QueueWorker[];
  private exiting = false;
  /** Ends a graceful shutdown's wait early (a second signal: hand back now). */
  private cutWait: (() => void) | undefined;
  private cutShort = false;

  constructor(
    readonly id: string,
    private readonly config: Config,
    registry: HandlerRegistry,
    private readonly log: Logger,
    private readonly events: NodeEvents,
    /** The lease the supervisor tells (src/core/lease.ts); none = every job may start. */
    lease: NodeLease = new NodeLease(),
  ) {
    this.redis = connectRedis(config.redisUrl, {
      name: `verk:${id}`,
      log,
      autoPipeline: true,
      commandTimeoutMs: config.redisCommandTimeout,
      sentinelPassword: config.sentinelPassword,
      slotTag: hashTagOf(config.prefix),
    });
    this.scripts = new Scripts(this.redis, makeKeys(config.prefix), durableOptions(config, log), Array.isArray(config.limits) ? config.limits : []);
    let wasDown = false;
    this.redis.on('close', () => (wasDown = true));
    this.redis.on('ready', () => {
      if (wasDown) this.workers.forEach((w) => w.requestReconcile());
      wasDown = false;
    });
    const qEvents: QueueWorkerEvents = {
      onFenced: (reason) => void this.fence(reason),
      onRejected: (n) => {
        this.counters.rejected += n;
        this.redis.incrby(this.scripts.keys.fenced, n).catch(() => undefined);
      },
      onIgnoredAbort: (jid) => void this.recycle(`job ${jid} ignored its aborted signal for ${config.killGrace}ms`),
      onSettled: (queue, result) => this.count(queue, result),
    };
    // A reconnect whose SELECT of the URL's database is refused must not go on in db 0.
    const db = parseRedisUrl(config.redisUrl).db;
    const wrongDb = (err: Error) => void this.fence(err.message);
    guardDatabase(this.redis, db, wrongDb);
    const gate = new IsolationGate(() => this.busy());
    this.workers = config.queues.map(
      (queue) =>
        new QueueWorker({
          gate,
          lease,
          queue,
          node: id,
          config,
          scripts: this.scripts,
          registry,
          log,
          events: qEvents,
          blocking: guarded(
            connectRedis(config.redisUrl, {
              name: `verk:${id}:block:${queue.name}`,
              commandTimeoutMs: config.redisCommandTimeout,
              blockingMs: config.blockTimeout,
              sentinelPassword: config.sentinelPassword,
              slotTag: hashTagOf(config.prefix),
            }),
            db,
            wrongDb,
          ),
        }),
    );
  }

  start(): void {
    for (const w of this.workers) w.start();
    this.log.info('node started', { node: this.id, queues: this.config.queues.map((q) => `${q.name}:${q.concurrency}`).join(',') });
  }

  busy(): number {
    return this.workers.reduce((n, w) => n + w.running.size, 0);
  }

  running() {
    return this.workers.flatMap((w) => w.snapshot());
  }

  /** Stop fetching, keep running jobs (SIGTSTP / remote quiet). */
  async quiet(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'quiet';
    await Promise.all(this.workers.map((w) => w.stopFetching()));
    await Promise.all(this.workers.map((w) => w.reconcileIfNeeded()));
    this.log.info('node is quiet: no new jobs will be fetched', { node: this.id });
  }

  /**
   * Graceful stop: stop fetching, wait up to `deadlineMs` for running jobs, then abort and hand
   * back the rest to the front of their queues without spending a retry.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    if (this.exiting) {
      if (deadlineMs === 0) {
        this.cutShort = true;
        this.cutWait?.();
      }
      return;
    }
    this.exiting = true;
    this.state = 'stopping';
    await Promise.all(this.workers.map((w) => w.stopFetching()));
    const drained = await Promise.race([
      Promise.all(this.workers.map((w) => w.drained())).then(() => true),
      sleep(deadlineMs).then(() => false),
      new Promise<boolean>((r) => {
        this.cutWait = () => r(false);
        if (this.cutShort) r(false);
      }),
    ]);
    let handedBack = 0;
    if (!drained) handedBack = await this.handBackAll('shutdown deadline reached: job handed back to its queue');
    await this.flushAndClose();
    this.log.info('node stopped', { node: this.id, handed_back: handedBack });
    this.events.onExit('shutdown', 0);
  }

  /** The node was reaped or refused: stop, abort running jobs, hand back what it still holds, exit. */
  async fence(reason: string): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    this.state = 'fenced';
    this.log.error('node fenced: stopping and aborting its jobs', { node: this.id, reason });
    await Promise.all(this.workers.map((w) => w.stopFetching()));
    await this.handBackAll(`node fenced: ${reason}`).catch(() => 0);
    await this.settleWritesInFlight();
    await this.flushAndClose();
    this.events.onExit(`fenced: ${reason}`, 3);
  }

  /** A handler ignored its abort: hand back the other jobs and exit so the process is replaced. */
  async recycle(reason: string): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    this.state = 'stopping';
    this.log.error('recycling worker process', { node: this.id, reason });
    await Promise.all(this.workers.map((w) => w.stopFetching()));
    await this.handBackAll('worker process recycled').catch(() => 0);
    await this.settleWritesInFlight();
    await this.flushAndClose();
    this.events.onExit(`recycle: ${reason}`, 4);
  }

  private async handBackAll(reason: string): Promise<number> {
    const counts = await Promise.all(this.workers.map((w) => w.handBack(reason)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Acks and failures already sent when the node must go (fenced, recycled): each one either
   * lands (the node still held the job: no duplicate run) or is refused and counted. Bounded:
   * a settle write is retried until Redis answers, and an exit must not wait for an outage.
   */
  private async settleWritesInFlight(): Promise<void> {
    await Promise.race([Promise.all(this.workers.map((w) => w.settleWrites())), sleep(NODE_EXIT.settleWaitMs)]);
  }

  private async flushAndClose(): Promise<void> {
    await sleep(0);
    await Promise.race([this.redis.quit().catch(() => undefined), sleep(1000)]);
    this.redis.disconnect();
  }

  private count(queue: string, result: 'processed' | 'failed' | 'retried' | 'dead' | 'dropped'): void {
    this.counters[result]++;
    const q = (this.counters.perQueue[queue] ??= { processed: 0, failed: 0 });
    q[result] = (q[result] ?? 0) + 1;
  }
}

function guarded(redis: Redis, db: number, onRefused: (err: Error) => void): Redis {
  guardDatabase(redis, db, onRefused);
  return redis;
}
