// The supervisor (`verk work`): spawns N worker processes (each its own node with a fresh id),
// heartbeats for them, replaces the ones that die after handing their jobs back at once, and
// runs the reaper and scheduler duties. Signals: TERM/INT = graceful stop (twice = now),
// TSTP = quiet.
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { Heartbeat } from '../core/duties/heartbeat.js';
import { Reaper } from '../core/duties/reaper.js';
import { Scheduler } from '../core/duties/scheduler.js';
import { connectRedis } from '../redis/connection.js';
import { makeKeys } from '../redis/keys.js';
import { Scripts } from '../redis/scripts.js';
import type { Logger } from '../util/logger.js';
import { Ticker } from '../util/ticker.js';
import { ConfigError } from '../util/errors.js';
import { SidekiqRegistry } from './sidekiq-registry.js';
import { VERSION } from '../version.js';
import type { ChildCounters, FromChild, RunningJobInfo, ToChild } from './ipc.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.js', import.meta.url));

export interface ChildHandle {
  id: string;
  proc: ChildProcess;
  startedAt: number;
  lastPong: number;
  /** p99 event-loop delay of the worker process since the previous ping (ms). */
  lagMs?: number;
  busy: number;
  rss: number;
  running: RunningJobInfo[];
  counters?: ChildCounters;
  state: string;
  /** Its heartbeat was refused or it fenced itself: it was reaped, do not count a recovery. */
  fenced: boolean;
  exited: Promise<void>;
}

export type SupervisorState = 'starting' | 'running' | 'quiet' | 'stopping' | 'stopped';

export class Supervisor {
  state: SupervisorState = 'starting';
  readonly children = new Map<string, ChildHandle>();
  readonly redis: Redis;
  readonly scripts: Scripts;
  readonly heartbeat: Heartbeat;
  readonly reaper: Reaper;
  readonly scheduler: Scheduler;
  /** Totals of children that have exited (live children report their own). */
  readonly pastCounters: ChildCounters = { processed: 0, failed: 0, retried: 0, dead: 0, dropped: 0, rejected: 0, perQueue: {} };
  recovered = 0;
  /** When the supervisor's ping loop last ran (for /livez). */
  lastLoopAt = Date.now();
  /** Sidekiq's process registry: `processes`, the identity hash, remote quiet/stop signals. */
  readonly sidekiq = new SidekiqRegistry(this);
  private readonly tickers: Ticker[] = [];
  private readonly base: string;
  private readonly host = os.hostname();
  private crashes: number[] = [];
  private stopped?: Promise<void>;
  private signalsSeen = 0;

  constructor(readonly config: Config, private readonly log: Logger) {
    this.redis = connectRedis(config.redisUrl, { name: 'verk:supervisor', log, autoPipeline: true, commandTimeoutMs: config.redisCommandTimeout });
    this.scripts = new Scripts(this.redis, makeKeys(config.prefix));
    this.base = config.nodeId || this.host;
    const self = `${this.base}-supervisor-${process.pid}`;
    this.heartbeat = new Heartbeat(this.scripts, config, log, () => [...this.children.values()].map((c) => ({ id: c.id, info: () => this.infoOf(c) })), {
      onRefused: (id) => this.fenceChild(id, 'heartbeat refused: the node was reaped'),
      onStale: (ids) => ids.forEach((id) => this.fenceChild(id, `heartbeat not renewed for ${config.nodeTtl / 2}ms`)),
    });
    this.reaper = new Reaper(this.scripts, config, log, self);
    this.scheduler = new Scheduler(this.scripts, config, log);
  }

  /** Connects (retrying with backoff), takes back a fixed id's old jobs, starts the children and duties. */
  async start(): Promise<void> {
    await this.waitForRedis();
    const c = this.config;
    if (c.fixedNodeId) await this.takeOverFixedId(c.nodeId);
    for (let i = 0; i < c.processes; i++) await this.spawn();
    const onError = (what: string) => (err: unknown) => this.log.warn(`${what} failed`, { error: (err as Error).message });
    this.tickers.push(
      new Ticker(() => this.heartbeat.tick(), { intervalMs: c.heartbeatInterval, onError: onError('heartbeat'), delayFirst: true }),
      new Ticker(() => this.pingChildren(), { intervalMs: Math.min(c.heartbeatInterval, 1000), onError: onError('ping'), delayFirst: true }),
      new Ticker(() => this.reaper.tick().then((rs) => rs.forEach((r) => (this.recovered += r.moved))), { intervalMs: c.reaperInterval, jitter: 0.2, onError: onError('reaper') }),
      new Ticker(() => this.scheduler.tick(), { intervalMs: c.schedulerInterval, jitter: 0.2, onError: onError('scheduler') }),
    );
    this.tickers.push(new Ticker(() => this.sidekiq.tick(), { intervalMs: c.heartbeatInterval, onError: onError('sidekiq registry') }));
    this.tickers.forEach((t) => t.start());
    this.state = 'running';
    this.log.info('verk work started', { processes: c.processes, queues: c.queues.map((q) => `${q.name}:${q.concurrency}`).join(','), version: VERSION });
  }

  private async waitForRedis(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.redis.ping();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 5000)));
      }
    }
  }

  /**
   * verk's mode A: before using a fixed id, hand back what its earlier run left. If the id's
   * heartbeat key is still alive (a restart within nodeTtl) wait for it to expire; if someone
   * keeps renewing it, another process uses the id: refuse rather than steal its running jobs.
   */
  private async takeOverFixedId(id: string): Promise<void> {
    const key = this.scripts.keys.node(id);
    const deadline = Date.now() + this.config.nodeTtl + 2 * this.config.heartbeatInterval;
    let logged = false;
    while (await this.redis.exists(key)) {
      if (Date.now() > deadline) {
        throw new ConfigError(`node id ${id} is in use by a live node (its heartbeat is being renewed): give each process its own --node-id, or drop --fixed-node-id`);
      }
      if (!logged) this.log.warn('fixed node id still has a live heartbeat; waiting for it to expire', { node: id, ttl_ms: await this.redis.pttl(key) });
      logged = true;
      await new Promise((r) => setTimeout(r, Math.min(200, this.config.heartbeatInterval)));
    }
    const r = await this.reaper.reapNode(id, true, true);
    if (r.moved + r.buried > 0) this.log.warn('handed back jobs left by this fixed node id\'s earlier run', { node: id, requeued: r.moved, dead: r.buried });
  }

  private newId(): string {
    return this.config.fixedNodeId ? this.config.nodeId : `${this.base}-${randomBytes(4).toString('hex')}`;
  }

  /** Registers a fresh node id, then forks the worker process that runs it. */
  private async spawn(): Promise<void> {
    const c = this.config;
    const id = this.newId();
    await this.scripts.register(id, c.nodeTtl, this.heartbeat.infoTtl, {
      host: this.host, supervisor_pid: process.pid, started_at: Date.now() / 1000, version: VERSION,
      queues: c.queues.map((q) => `${q.name}:${q.concurrency}`).join(','), busy: 0, identity: this.sidekiq.identity,
    });
    this.heartbeat.renewed(id);
    const proc = fork(WORKER_ENTRY, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    let resolveExit!: () => void;
    const child: ChildHandle = {
      id, proc, startedAt: Date.now(), lastPong: Date.now(), busy: 0, rss: 0, running: [], state: 'starting', fenced: false,
      exited: new Promise((r) => (resolveExit = r)),
    };
    this.children.set(id, child);
    proc.on('message', (msg: FromChild) => this.onMessage(child, msg));
    proc.on('exit', (code, signal) => void this.onExit(child, code, signal).finally(resolveExit));
    proc.on('error', (err) => this.log.error('worker process error', { node: id, error: err.message }));
    this.sendTo(child, { type: 'start', nodeId: id, config: c });
  }

  private onMessage(child: ChildHandle, msg: FromChild): void {
    if (msg.type === 'pong') {
      Object.assign(child, { lastPong: Date.now(), busy: msg.busy, running: msg.running, counters: msg.counters, rss: msg.rss, state: msg.state, lagMs: msg.lagMs });
    } else if (msg.type === 'ready') {
      child.lastPong = Date.now();
      child.state = 'running';
    } else if (msg.type === 'exiting' && msg.reason.startsWith('fenced')) {
      child.fenced = true;
    }
  }

  /** A worker process ended: hand its jobs back now (no TTL wait) and start a replacement. */
  private async onExit(child: ChildHandle, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.children.delete(child.id);
    this.heartbeat.forget(child.id);
    this.addPast(child.counters);
    const graceful = code === 0 && this.state === 'stopping';
    try {
      const r = await this.reaper.reapNode(child.id, true, !graceful && !child.fenced);
      this.recovered += r.moved;
      if (!graceful) {
        this.log.error('worker process exited; its jobs were handed back', {
          node: child.id, code, signal, requeued: r.moved, dead: r.buried,
        });
      }
    } catch (err) {
      this.log.error('could not hand back the jobs of an exited worker process; the reaper will after the TTL', { node: child.id, error: (err as Error).message });
    }
    if (this.state === 'stopping' || this.state === 'stopped') return;
    await this.respawnDelay();
    if (this.state === 'running' || this.state === 'quiet') {
      await this.spawn().catch((err) => this.log.error('could not start a replacement worker process', { error: (err as Error).message }));
      if (this.state === 'quiet') this.sendAll({ type: 'quiet' });
    }
  }

  /** Crash-loop protection: back off when processes keep dying right after they start. */
  private async respawnDelay(): Promise<void> {
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < 30_000);
    this.crashes.push(now);
    const delay = this.crashes.length <= 3 ? 0 : Math.min(250 * 2 ** (this.crashes.length - 3), 10_000);
    if (delay) await new Promise((r) => setTimeout(r, delay));
  }

  private fenceChild(id: string, reason: string): void {
    const child = this.children.get(id);
    if (!child || child.fenced) return;
    child.fenced = true;
    this.sendTo(child, { type: 'fence', reason });
  }

  /** Pings every child; one whose event loop has not answered for hangTimeout is killed. */
  private async pingChildren(): Promise<void> {
    const now = Date.now();
    this.lastLoopAt = now;
    for (const child of this.children.values()) {
      if (now - child.lastPong > this.config.hangTimeout) {
        this.log.error('worker process does not answer; killing it', { node: child.id, silent_ms: now - child.lastPong });
        child.proc.kill('SIGKILL');
      } else this.sendTo(child, { type: 'ping' });
    }
  }

  private infoOf(c: ChildHandle): Record<string, string | number> {
    return { pid: c.proc.pid ?? 0, busy: c.busy, rss: c.rss, state: c.state, running: JSON.stringify(c.running.slice(0, 1000)) };
  }

  quiet(): void {
    if (this.state !== 'running') return;
    this.state = 'quiet';
    this.log.info('quiet: no new jobs will be fetched; running jobs finish');
    this.sendAll({ type: 'quiet' });
  }

  /** Graceful stop; a second call makes the children hand their jobs back at once. */
  stop(): Promise<void> {
    this.signalsSeen++;
    if (this.stopped) {
      if (this.signalsSeen === 2) {
        this.log.warn('second signal: handing running jobs back now');
        this.sendAll({ type: 'shutdown', deadlineMs: 0 });
      }
      return this.stopped;
    }
    this.state = 'stopping';
    this.log.info('stopping: no new jobs; waiting for running jobs', { timeout_ms: this.config.shutdownTimeout });
    this.stopped = this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    this.sendAll({ type: 'shutdown', deadlineMs: this.config.shutdownTimeout });
    // A child that does not exit by the deadline (plus grace for hand-back) is killed; its jobs are handed back on exit.
    const hard = setTimeout(() => {
      for (const c of this.children.values()) c.proc.kill('SIGKILL');
    }, this.config.shutdownTimeout + Math.max(this.config.killGrace, 2000));
    await Promise.all([...this.children.values()].map((c) => c.exited));
    clearTimeout(hard);
    await Promise.all(this.tickers.map((t) => t.stop()));
    // Bounded: with Redis down a write would wait for it forever and the pod would hang in Terminating.
    const left = this.sidekiq.stop().catch((err) => this.log.warn('could not leave the Sidekiq process registry', { error: (err as Error).message }));
    await Promise.race([left, new Promise((r) => setTimeout(r, 1000))]);
    this.state = 'stopped';
    await Promise.race([this.redis.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    this.redis.disconnect();
    this.log.info('verk work stopped');
  }

  private sendTo(child: ChildHandle, msg: ToChild): void {
    if (child.proc.connected) child.proc.send(msg, (err) => err && this.log.debug('ipc send failed', { node: child.id }));
  }

  private sendAll(msg: ToChild): void {
    for (const c of this.children.values()) this.sendTo(c, msg);
  }

  private addPast(c: ChildCounters | undefined): void {
    if (!c) return;
    const p = this.pastCounters;
    for (const k of ['processed', 'failed', 'retried', 'dead', 'dropped', 'rejected'] as const) p[k] += c[k];
    for (const [q, v] of Object.entries(c.perQueue)) {
      const t = (p.perQueue[q] ??= { processed: 0, failed: 0 });
      for (const k of ['processed', 'failed', 'retried', 'dead', 'dropped'] as const) t[k] = (t[k] ?? 0) + (v[k] ?? 0);
    }
  }
}
