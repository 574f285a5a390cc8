// A promise that resolves after `ms` milliseconds, or at once when `signal` aborts (so a
// backoff wait never delays a shutdown).
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** Exponential backoff: `baseMs` doubled `attempt` times, never above `capMs`. */
export const backoffMs = (attempt: number, baseMs: number, capMs: number): number => Math.min(baseMs * 2 ** attempt, capMs);
