// Entry point of a worker process (forked by the supervisor): waits for its node id and the
// resolved config over IPC, loads the handlers, runs one WorkerNode, and exits when the node
// stops or the supervisor goes away.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadHandlers } from '../core/handlers.js';
import { NodeLease } from '../core/lease.js';
import { WorkerNode } from '../core/worker-node.js';
import { redisEvents } from '../redis/failover-stats.js';
import { createLogger, type Logger } from '../util/logger.js';
import { logFormatOf } from './log-format.js';
import type { FromChild, ToChild } from './ipc.js';
import { WORKER_IGNORED_SIGNALS } from './signals.js';
import { guardWorkerStdio } from './stdio-guard.js';

let node: WorkerNode | undefined;
/** Until when the node's heartbeat key is certainly alive, as the supervisor tells after each renewal. */
const lease = new NodeLease();
let quietRequested = false;
let log: Logger = createLogger();
let shutdownTimeoutMs: number | undefined;
guardWorkerStdio(() => shutdownTimeoutMs);
// Event-loop delay since the last ping, reported in the pong (shown in /metrics per worker).
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

function lagMs(): number {
  const ms = loopDelay.count > 0 ? loopDelay.percentile(99) / 1e6 : 0;
  loopDelay.reset();
  return ms;
}

function send(msg: FromChild): void {
  if (process.connected) process.send?.(msg);
}

process.on('message', (msg: ToChild) => {
  switch (msg.type) {
    case 'start':
      if (msg.leaseUntil !== undefined) lease.renewedUntil(msg.leaseUntil);
      void start(msg.nodeId, msg.config);
      break;
    case 'lease':
      lease.renewedUntil(msg.until);
      break;
    case 'ping':
      if (node) {
        send({
          type: 'pong',
          busy: node.busy(),
          running: node.running(),
          counters: { ...node.counters, redis: redisEvents() },
          rss: process.memoryUsage.rss(),
          state: node.state,
          lagMs: lagMs(),
        });
      } else send({ type: 'pong', busy: 0, running: [], counters: emptyCounters(), rss: process.memoryUsage.rss(), state: 'starting' });
      break;
    case 'quiet':
      // A process started while the supervisor is quiet gets this before its node exists.
      quietRequested = true;
      void node?.quiet();
      break;
    case 'shutdown':
      if (node) void node.shutdown(msg.deadlineMs);
      else process.exit(0);
      break;
    case 'fence':
      if (node) void node.fence(msg.reason);
      else process.exit(3);
      break;
  }
});

// The supervisor is gone (killed, crashed): stop, hand back what we hold, exit.
process.on('disconnect', () => {
  if (node) void node.fence('supervisor went away');
  else process.exit(3);
});

// A handler's stray async error must not take the other jobs down with it.
process.on('unhandledRejection', (reason) => {
  log.error('unhandled promise rejection in a handler (ignored)', { error: reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason) });
});
process.on('uncaughtException', (err) => {
  log.error('uncaught exception in a handler (ignored)', { error: `${err.name}: ${err.message}` });
});
// Signals go to the whole process group; the supervisor decides what they mean.
for (const sig of WORKER_IGNORED_SIGNALS) process.on(sig, () => undefined);

async function start(nodeId: string, config: import('../config/schema.js').Config): Promise<void> {
  log = createLogger({ level: config.logLevel, format: logFormatOf(config) }, { node: nodeId, pid: process.pid });
  shutdownTimeoutMs = config.shutdownTimeout;
  const registry = await loadHandlers(config.handlers, log);
  node = new WorkerNode(
    nodeId,
    config,
    registry,
    log,
    {
      onExit: (reason, code) => {
        // The final totals: jobs settled since the last pong still count (daily counters, /metrics).
        send({ type: 'exiting', reason, code, counters: node ? { ...node.counters, redis: redisEvents() } : undefined });
        setImmediate(() => process.exit(code));
      },
    },
    lease,
  );
  // Quiet before the first fetch (a replacement started while the supervisor is quiet).
  if (quietRequested) await node.quiet();
  node.start();
  send({ type: 'ready', handlers: registry.list().length, handlerErrors: registry.errors.length });
}

function emptyCounters() {
  return { processed: 0, failed: 0, retried: 0, dead: 0, dropped: 0, rejected: 0, perQueue: {} };
}
