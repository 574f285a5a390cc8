// Child process of the fleet suite: holds N idle workers of one system in this one process —
// simulated verk pods (bench/suites/fleet-sim.mjs), BullMQ Workers or Bee-Queue workers, with the
// settings the other suites use — and answers the bench over IPC:
//   { type: 'start', n, batch, heapLimitMiB } → starts them `batch` at a time, sends
//     { type: 'ready', started, ms, stoppedEarly? } (it stops starting more once this process
//     cannot keep up, see start(), so an overloaded fleet measures Redis, not this process);
//   { type: 'stats' } → { type: 'stats', cpuUs, rssMiB, heapMiB, lagP99Ms, logs };
//   { type: 'stop' } → closes every worker (bounded) and exits.
// It exits when the bench goes away (IPC disconnect).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'bullmq';
import Queue from 'bee-queue';
import { createLogger } from '../../dist/util/logger.js';
import { podConfig, loadRegistry, simPod } from '../suites/fleet-sim.mjs';

const env = process.env;
const system = env.FLEET_SYSTEM;
const host = env.BENCH_REDIS_HOST || '127.0.0.1';
const port = Number(env.BENCH_REDIS_PORT);
const QUEUE = env.BENCH_QUEUE || 'bench';
const STOP_BOUND_MS = 60_000;
const LAG_LIMIT_MS = 2000;
const SETTLE_MS = 3000;
const lagP99 = () => (loop.count > 0 ? loop.percentile(99) / 1e6 : 0);

const loop = monitorEventLoopDelay({ resolution: 20 });
loop.enable();

// Warnings and errors of the simulated pods, counted (a fenced node or a failed heartbeat under load matters).
const logs = { warn: 0, error: 0, first: [] };
const log = createLogger({
  level: 'warn',
  format: 'json',
  write: (line) => {
    const level = /"level":"(\w+)"/.exec(line)?.[1] ?? 'warn';
    logs[level] = (logs[level] ?? 0) + 1;
    const msg = /"msg":"([^"]*)"/.exec(line)?.[1];
    if (msg && logs.first.length < 10 && !logs.first.some((f) => f.msg === msg)) logs.first.push({ level, msg });
  },
});

/** A factory of one idle worker of this system: () => Promise<{ stop(): Promise<void> }>. */
async function factory() {
  if (system === 'verk-sim') {
    const config = await podConfig({ redisUrl: `redis://${host}:${port}/0`, queues: `${QUEUE}:1`, handlers: env.FLEET_HANDLERS, cwd: env.FLEET_CWD });
    const registry = await loadRegistry(config.handlers, log);
    return async () => {
      const pod = simPod(config, registry, log);
      await pod.start();
      return pod;
    };
  }
  if (system === 'bullmq') {
    // As bench/workers/bullmq-worker.mjs (its documented production settings), concurrency 1.
    return async () => {
      const w = new Worker(QUEUE, async () => undefined, {
        connection: { host, port, maxRetriesPerRequest: null },
        concurrency: 1,
        removeOnComplete: { count: 1000 },
        removeOnFail: { count: 5000 },
      });
      w.on('error', (err) => log.warn(`bullmq worker error: ${err.message}`));
      await w.waitUntilReady();
      return { stop: () => w.close() };
    };
  }
  if (system === 'bee') {
    // As bench/workers/bee-worker.mjs, concurrency 1, checkStalledJobs every 5 s.
    return async () => {
      const q = new Queue(QUEUE, {
        redis: { host, port },
        isWorker: true,
        getEvents: false,
        sendEvents: false,
        storeJobs: false,
        activateDelayedJobs: false,
        removeOnSuccess: true,
        removeOnFailure: false,
      });
      q.on('error', (err) => log.warn(`bee-queue worker error: ${err.message}`));
      q.process(1, async () => undefined);
      q.checkStalledJobs(5000);
      await q.ready();
      return { stop: () => q.close(5000) };
    };
  }
  throw new Error(`unknown FLEET_SYSTEM ${system}`);
}

const workers = [];
let make;

/**
 * Starts workers `batch` at a time until n run. It stops early, and says why, when this process
 * can no longer keep up (its event loop was delayed > LAG_LIMIT_MS during a batch and still
 * SETTLE_MS after it, or a worker logged a warning or an error: a command timed out, a beat
 * failed, a node was fenced) or its heap passed heapLimitMiB: past that point the figures would
 * measure this process, not Redis.
 */
async function start(n, batch, heapLimitMiB) {
  const t0 = performance.now();
  make ??= await factory();
  let stoppedEarly;
  while (workers.length < n) {
    const heap = process.memoryUsage().heapUsed / 2 ** 20;
    let lag = lagP99();
    // Starting a batch blocks the loop by itself (BullMQ defines its scripts per connection):
    // only a delay that lasts once the batch is up counts.
    if (lag > LAG_LIMIT_MS) {
      loop.reset();
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      lag = lagP99();
    }
    const trouble = logs.error + logs.warn;
    if (heap > heapLimitMiB) stoppedEarly = `heap ${Math.round(heap)} MiB > ${heapLimitMiB} MiB`;
    else if (lag > LAG_LIMIT_MS) stoppedEarly = `event loop delayed ${Math.round(lag)} ms`;
    else if (trouble > 0) stoppedEarly = `workers logged ${trouble} warnings/errors (first: ${logs.first[0]?.msg})`;
    if (stoppedEarly) {
      stoppedEarly = `client saturated after ${workers.length} workers: ${stoppedEarly}`;
      break;
    }
    loop.reset();
    const k = Math.min(batch, n - workers.length);
    workers.push(...(await Promise.all(Array.from({ length: k }, () => make()))));
  }
  return { started: workers.length, ms: Math.round(performance.now() - t0), stoppedEarly };
}

function stats() {
  const cpu = process.cpuUsage();
  const m = process.memoryUsage();
  const lag = lagP99();
  loop.reset();
  return { cpuUs: cpu.user + cpu.system, rssMiB: m.rss / 2 ** 20, heapMiB: m.heapUsed / 2 ** 20, lagP99Ms: lag, logs };
}

let stopping;
function stop() {
  stopping ??= Promise.race([Promise.allSettled(workers.map((w) => w.stop())), new Promise((r) => setTimeout(r, STOP_BOUND_MS))]).finally(() => process.exit(0));
  return stopping;
}

process.on('message', (msg) => {
  if (msg?.type === 'start')
    start(msg.n, msg.batch ?? 50, msg.heapLimitMiB ?? 6000).then(
      (r) => process.send({ type: 'ready', ...r }),
      (err) => process.send({ type: 'failed', error: String(err?.stack ?? err) }),
    );
  else if (msg?.type === 'stats') process.send({ type: 'stats', ...stats() });
  else if (msg?.type === 'stop') void stop();
});
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
process.send({ type: 'hello' });
