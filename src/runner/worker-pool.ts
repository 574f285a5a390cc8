// The pool of worker processes of one `verk work`: forks a worker process for a node id that
// the supervisor has registered, keeps what each one reports over IPC (pongs: busy, running
// jobs, counters, RSS, event-loop lag), pings them and kills the ones whose event loop has not
// answered for hangTimeout (on the monotonic clock), and reports exits. It knows nothing of
// Redis: registering, handing back and replacing are the supervisor's (src/runner/supervisor.ts).
// `ProcessPool` is the seam the supervisor's in-process tests replace with a fake.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { workerPingInterval } from '../config/cross-check.js';
import type { Config } from '../config/schema.js';
import type { Duty, DutyReport } from '../core/duties/duty.js';
import { monotonicMs } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { ChildCounters, FromChild, RunningJobInfo, ToChild } from './ipc.js';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.js', import.meta.url));

/** What the supervisor, the heartbeat and the health server know of one worker process. */
export interface PoolChild {
  readonly id: string;
  readonly pid: number;
  /** Monotonic ms of the fork and of the last pong (or 'ready'). */
  readonly startedAt: number;
  lastPong: number;
  /** p99 event-loop delay of the worker process since the previous ping (ms). */
  lagMs?: number;
  busy: number;
  rss: number;
  /** Jobs the process last reported as started and not settled. */
  running: RunningJobInfo[];
  counters?: ChildCounters;
  state: string;
  /** It was fenced (told to stop, or it fenced itself): its jobs are someone else's now. */
  fenced: boolean;
  /** Resolves once the exit has been handled by the pool's exit listener. */
  readonly exited: Promise<void>;
}

/** A just-forked child as every pool starts it (the forked one, the tests' and the bench's in-process ones). */
export function newPoolChild(id: string, pid: number, state = 'starting'): { child: PoolChild; resolveExit: () => void } {
  let resolveExit!: () => void;
  const now = monotonicMs();
  const child: PoolChild = {
    id,
    pid,
    startedAt: now,
    lastPong: now,
    busy: 0,
    rss: 0,
    running: [],
    state,
    fenced: false,
    exited: new Promise((r) => (resolveExit = r)),
  };
  return { child, resolveExit };
}

export type ExitListener = (child: PoolChild, code: number | null, signal: NodeJS.Signals | null) => Promise<void>;

export interface ProcessPool {
  readonly children: ReadonlyMap<string, PoolChild>;
  /** Forks the worker process of an already registered node (leaseUntil: its fence point, src/core/lease.ts). Throws when the fork fails. */
  fork(id: string, config: Config, leaseUntil?: number): PoolChild;
  send(id: string, msg: ToChild): void;
  sendAll(msg: ToChild): void;
  kill(id: string, signal: NodeJS.Signals): void;
  killAll(signal: NodeJS.Signals): void;
  /** Called once per exited child, after it left `children`; the child's `exited` waits for it. */
  onExit(listener: ExitListener): void;
}

/** The real pool: one forked `worker-entry.js` per node. */
export class ForkedPool implements ProcessPool {
  readonly children = new Map<string, PoolChild>();
  private readonly procs = new Map<string, ChildProcess>();
  private exitListener: ExitListener = async () => undefined;

  constructor(private readonly log: Logger) {}

  onExit(listener: ExitListener): void {
    this.exitListener = listener;
  }

  fork(id: string, config: Config, leaseUntil?: number): PoolChild {
    const proc = fork(WORKER_ENTRY, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    const { child, resolveExit } = newPoolChild(id, proc.pid ?? 0);
    this.children.set(id, child);
    this.procs.set(id, proc);
    proc.on('message', (msg: FromChild) => applyMessage(child, msg));
    proc.on('exit', (code, signal) => {
      this.children.delete(id);
      this.procs.delete(id);
      void this.exitListener(child, code, signal)
        .catch((err) => this.log.error('handling a worker exit failed', { node: id, error: (err as Error).message }))
        .finally(resolveExit);
    });
    proc.on('error', (err) => this.log.error('worker process error', { node: id, error: err.message }));
    this.send(id, { type: 'start', nodeId: id, config, leaseUntil });
    return child;
  }

  send(id: string, msg: ToChild): void {
    const proc = this.procs.get(id);
    if (proc?.connected) proc.send(msg, (err) => err && this.log.debug('ipc send failed', { node: id }));
  }

  sendAll(msg: ToChild): void {
    for (const id of this.procs.keys()) this.send(id, msg);
  }

  kill(id: string, signal: NodeJS.Signals): void {
    this.procs.get(id)?.kill(signal);
  }

  killAll(signal: NodeJS.Signals): void {
    for (const proc of this.procs.values()) proc.kill(signal);
  }
}

/** What a message from a worker process changes in its record. */
export function applyMessage(child: PoolChild, msg: FromChild): void {
  if (msg.type === 'pong') {
    Object.assign(child, { lastPong: monotonicMs(), busy: msg.busy, running: msg.running, counters: msg.counters, rss: msg.rss, state: msg.state, lagMs: msg.lagMs });
  } else if (msg.type === 'ready') {
    child.lastPong = monotonicMs();
    child.state = 'running';
  } else if (msg.type === 'exiting') {
    if (msg.counters) child.counters = msg.counters;
    if (msg.reason.startsWith('fenced')) child.fenced = true;
  }
}

/**
 * Duty: pings every worker process; one whose event loop has not answered for hangTimeout is
 * killed (its exit then hands its jobs back). Measured on the monotonic clock, so a wall-clock
 * step never looks like a hang.
 */
export class PoolWatch implements Duty {
  readonly name = 'pool-watch';
  readonly jitter = 0;
  readonly delayFirst = true;
  /** Monotonic time of the last round (the supervisor's own liveness). */
  lastRoundAt = monotonicMs();

  constructor(
    private readonly pool: ProcessPool,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  get intervalMs(): number {
    return workerPingInterval(this.config);
  }

  async tick(): Promise<DutyReport> {
    const now = monotonicMs();
    this.lastRoundAt = now;
    let killed = 0;
    for (const child of this.pool.children.values()) {
      const silent = now - child.lastPong;
      if (silent > this.config.hangTimeout) {
        this.log.error('worker process does not answer; killing it', { node: child.id, silent_ms: Math.round(silent) });
        this.pool.kill(child.id, 'SIGKILL');
        killed++;
      } else this.pool.send(child.id, { type: 'ping' });
    }
    return { pinged: this.pool.children.size - killed, killed };
  }
}
