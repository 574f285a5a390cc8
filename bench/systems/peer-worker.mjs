// Starts a peer's worker child process (bench/workers/<file>) and wraps it in the handle every
// system returns: ready, completed() (polled over IPC, so no Redis command), pids, stop().
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopChild, track } from '../lib/proc.mjs';

export function startPeerWorker(file, redis, { concurrency, queue, probePort }) {
  const path = fileURLToPath(new URL(`../workers/${file}`, import.meta.url));
  const proc = fork(path, [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: {
      ...process.env,
      BENCH_REDIS_HOST: redis.host,
      BENCH_REDIS_PORT: String(redis.port),
      BENCH_QUEUE: queue,
      BENCH_CONCURRENCY: String(concurrency),
      BENCH_PROBE_PORT: String(probePort ?? 0),
    },
  });
  track(proc);
  let pending = [];
  const ready = new Promise((resolve, reject) => {
    proc.on('message', (msg) => {
      if (msg.type === 'ready') resolve();
      else if (msg.type === 'count') {
        const waiters = pending;
        pending = [];
        waiters.forEach((w) => w(msg.n));
      }
    });
    setTimeout(() => reject(new Error(`${file} not ready after 30s`)), 30_000).unref();
    proc.once('exit', (code) => {
      reject(new Error(`${file} exited with ${code} before it was ready`));
      pending.forEach((w) => w(NaN));
    });
  });
  ready.catch(() => undefined);
  return {
    ready,
    completed: () =>
      new Promise((resolve) => {
        pending.push(resolve);
        proc.send({ type: 'count' });
      }),
    /** Redis commands the bench itself issued while polling (none: polls go over IPC). */
    ownCommands: () => ({}),
    workerPids: () => [proc.pid],
    extraPids: () => [],
    stop: () => stopChild(proc, { graceMs: 10_000 }),
  };
}
