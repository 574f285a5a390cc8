// The in-process simulation of a verk fleet for the fleet suite: each simulated pod is the real
// Supervisor from dist/ (its duties exactly as `verk work` builds them: heartbeat, pool watch,
// reaper, scheduler, Sidekiq registry, on the supervisor's own connection) whose process pool
// runs the real WorkerNode (its script connection + one blocking connection per queue) in this
// process instead of forking worker-entry.js. So a simulated pod sends what a real single-process
// pod sends, with the config `verk work` resolves (loadConfig, defaults + flags), and it follows
// changes to the duties without edits here.
//
// The adapter — everything that depends on the project's internals — is the block below
// (`ADAPTER`): the imports, how a config is resolved, how a Supervisor is built with a pool, and
// the messages a worker process answers. If a constructor or the ProcessPool seam changes, fix it
// there. Run by bench/workers/fleet-host.mjs (one child process holding many pods).
import { loadConfig } from '../../dist/config/load.js';
import { loadHandlers } from '../../dist/core/handlers.js';
import { WorkerNode } from '../../dist/core/worker-node.js';
import { Supervisor } from '../../dist/runner/supervisor.js';
import { applyMessage, newPoolChild } from '../../dist/runner/worker-pool.js';

// ---- ADAPTER (the project's internals the simulation relies on) ----------------------------

/** The config `verk work --queues <queues> --processes 1 --handlers <dir> --redis-url <url>` resolves. */
export async function podConfig({ redisUrl, queues, handlers, cwd }) {
  const { config } = await loadConfig({ cwd, env: {}, flags: { redisUrl, queues, processes: 1, handlers, logLevel: 'warn' }, requireHandlers: true });
  return config;
}

export const loadRegistry = (dir, log) => loadHandlers(dir, log);

/** A Supervisor whose pool is `pool` (the seam its in-process tests use: SupervisorDeps.pool). */
const newSupervisor = (config, log, pool) => new Supervisor(config, log, { pool });

/** A worker process's node (src/runner/worker-entry.ts builds the same). */
const newNode = (id, config, registry, log, onExit) => new WorkerNode(id, config, registry, log, { onExit });

/** What a worker process answers a ping with (worker-entry.ts's 'pong'). */
const pongOf = (node) => ({
  type: 'pong',
  busy: node.busy(),
  running: node.running(),
  counters: node.counters,
  rss: process.memoryUsage.rss(),
  state: node.state,
  lagMs: 0,
});

// ---- end of ADAPTER ------------------------------------------------------------------------

/**
 * A ProcessPool (src/runner/worker-pool.ts) whose "processes" are WorkerNodes in this process:
 * fork starts the node, messages reach it as worker-entry.ts would deliver them, and the node's
 * exit is reported to the supervisor's exit listener like a process exit.
 */
class InProcessPool {
  children = new Map();
  nodes = new Map();
  listener = async () => undefined;
  nextPid = 1;

  constructor(registry, log) {
    this.registry = registry;
    this.log = log;
  }

  onExit(listener) {
    this.listener = listener;
  }

  fork(id, config) {
    const { child, resolveExit } = newPoolChild(id, process.pid * 100_000 + this.nextPid++);
    this.children.set(id, child);
    const node = newNode(id, config, this.registry, this.log, (reason, code) => {
      if (reason.startsWith('fenced')) child.fenced = true;
      setImmediate(() => this.exit(id, code, null, resolveExit));
    });
    this.nodes.set(id, node);
    node.start();
    applyMessage(child, { type: 'ready', handlers: this.registry.list().length, handlerErrors: this.registry.errors.length });
    return child;
  }

  send(id, msg) {
    const node = this.nodes.get(id);
    const child = this.children.get(id);
    if (!node || !child) return;
    if (msg.type === 'ping') applyMessage(child, pongOf(node));
    else if (msg.type === 'quiet') void node.quiet();
    else if (msg.type === 'shutdown') void node.shutdown(msg.deadlineMs);
    else if (msg.type === 'fence') void node.fence(msg.reason);
  }

  sendAll(msg) {
    for (const id of [...this.nodes.keys()]) this.send(id, msg);
  }

  kill(id) {
    const node = this.nodes.get(id);
    if (node) void node.fence('killed by the supervisor');
  }

  killAll(signal) {
    for (const id of [...this.nodes.keys()]) this.kill(id, signal);
  }

  async exit(id, code, signal, resolveExit) {
    const child = this.children.get(id);
    if (!child) return;
    this.children.delete(id);
    this.nodes.delete(id);
    try {
      await this.listener(child, code, signal);
    } finally {
      resolveExit();
    }
  }
}

/** One simulated single-process pod: start() registers its node and starts every loop; stop() is `verk work`'s graceful stop. */
export function simPod(config, registry, log) {
  const pool = new InProcessPool(registry, log);
  const sup = newSupervisor(config, log, pool);
  return {
    start: () => sup.start(),
    stop: () => sup.stop(),
    /** Redis connections this pod holds (supervisor + node + one blocking per queue). */
    connections: 2 + config.queues.length,
  };
}
