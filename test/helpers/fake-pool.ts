// A ProcessPool without processes, for the supervisor's in-process tests: "forks" records a
// child, messages sent to it are kept, and the test decides when a child pongs, exits or hangs.
// On 'shutdown' a child exits with code 0 unless the test told it to ignore shutdowns; on 'fence'
// it exits with code 3, as a real worker process does.
import type { Config } from '../../src/config/schema.js';
import type { RunningJobInfo, ToChild } from '../../src/runner/ipc.js';
import { applyMessage, newPoolChild, type ExitListener, type PoolChild, type ProcessPool } from '../../src/runner/worker-pool.js';

interface FakeChild extends PoolChild {
  resolveExit(): void;
}

export class FakePool implements ProcessPool {
  readonly children = new Map<string, FakeChild>();
  /** Every message sent, in order, with the child it went to. */
  readonly sent: { id: string; msg: ToChild }[] = [];
  readonly killed: { id: string; signal: NodeJS.Signals }[] = [];
  /** Node ids ever forked, in order. */
  readonly forked: string[] = [];
  /** Children that ignore 'shutdown' (a hung process the supervisor must kill). */
  readonly ignoreShutdown = new Set<string>();
  /** Called after each fork (e.g. to send a stop in the middle of start-up). */
  onFork: (id: string) => void = () => undefined;
  /** Makes the next fork throw (a fork that fails). */
  failNextFork = false;
  private listener: ExitListener = async () => undefined;
  private nextPid = 10_000;

  onExit(listener: ExitListener): void {
    this.listener = listener;
  }

  fork(id: string, _config: Config): PoolChild {
    if (this.failNextFork) {
      this.failNextFork = false;
      throw new Error('spawn ENOMEM (fake)');
    }
    const { child: base, resolveExit } = newPoolChild(id, this.nextPid++, 'running');
    const child: FakeChild = { ...base, resolveExit };
    this.children.set(id, child);
    this.forked.push(id);
    this.onFork(id);
    return child;
  }

  send(id: string, msg: ToChild): void {
    if (!this.children.has(id)) return;
    this.sent.push({ id, msg });
    if (msg.type === 'ping') this.pong(id);
    if (msg.type === 'shutdown' && !this.ignoreShutdown.has(id)) queueMicrotask(() => void this.exit(id, 0));
    // A real worker fences itself: stops, hands back, exits 3.
    if (msg.type === 'fence') queueMicrotask(() => void this.exit(id, 3));
  }

  sendAll(msg: ToChild): void {
    for (const id of [...this.children.keys()]) this.send(id, msg);
  }

  kill(id: string, signal: NodeJS.Signals): void {
    if (!this.children.has(id)) return;
    this.killed.push({ id, signal });
    if (signal === 'SIGKILL') queueMicrotask(() => void this.exit(id, null, 'SIGKILL'));
  }

  killAll(signal: NodeJS.Signals): void {
    for (const id of [...this.children.keys()]) this.kill(id, signal);
  }

  /** Hung children answer no pings. */
  readonly hung = new Set<string>();

  pong(id: string, running: RunningJobInfo[] = this.children.get(id)?.running ?? []): void {
    const child = this.children.get(id);
    if (!child || this.hung.has(id)) return;
    applyMessage(child, {
      type: 'pong',
      busy: running.length,
      running,
      rss: 1,
      state: 'running',
      lagMs: 0,
      counters: { processed: 0, failed: 0, retried: 0, dead: 0, dropped: 0, rejected: 0, perQueue: {} },
    });
  }

  /** The child's process ends; resolves once the supervisor has handled the exit. */
  async exit(id: string, code: number | null, signal: NodeJS.Signals | null = null): Promise<void> {
    const child = this.children.get(id);
    if (!child) return;
    this.children.delete(id);
    try {
      await this.listener(child, code, signal);
    } finally {
      child.resolveExit();
    }
  }

  messagesTo(id: string): ToChild[] {
    return this.sent.filter((s) => s.id === id).map((s) => s.msg);
  }
}
