// IPC glue for the peers' worker child processes: tells the bench when the worker is ready,
// answers "how many jobs have completed?" polls, and closes the worker on "stop" or SIGTERM.
export function serveBench({ ready, completed, close }) {
  let closing;
  const stop = () => {
    closing ??= Promise.resolve(close())
      .catch(() => undefined)
      .finally(() => process.exit(0));
    return closing;
  };
  process.on('message', (msg) => {
    if (msg?.type === 'count') process.send({ type: 'count', n: completed() });
    else if (msg?.type === 'stop') void stop();
  });
  process.on('SIGTERM', () => void stop());
  process.on('disconnect', () => void stop());
  Promise.resolve(ready()).then(() => process.send({ type: 'ready' }));
}

/** The worker settings the bench passes in the environment. */
export function benchEnv() {
  const e = process.env;
  return {
    host: e.BENCH_REDIS_HOST || '127.0.0.1',
    port: Number(e.BENCH_REDIS_PORT),
    queue: e.BENCH_QUEUE || 'bench',
    concurrency: Number(e.BENCH_CONCURRENCY || 10),
  };
}
