// What happens to a failed job: retry later (Sidekiq's backoff), bury it in `dead`, or drop it.
import type { Job } from '../job/codec.js';
import type { Handler } from './handlers.js';

export type FailureDecision = { mode: 'retry'; delaySeconds: number } | { mode: 'dead' } | { mode: 'drop' };

/** Sidekiq's delay before retry `count` (0 after the first failure): count⁴ + 15 + rand(10)·(count+1) seconds. */
export function sidekiqBackoff(count: number, random: () => number = Math.random): number {
  return count ** 4 + 15 + Math.floor(random() * 10) * (count + 1);
}

/**
 * The job's own `retry` (or verk's `max_retry_count`) wins when it is false or a number; `true`
 * or absent means the handler's option, then the configured default.
 */
export function maxRetriesFor(job: Job, handler: Handler | undefined, defaultMax: number): number | false {
  const own = job.retry;
  if (own === false || typeof own === 'number') return own;
  const h = handler?.retry;
  if (h === false || typeof h === 'number') return h;
  return defaultMax;
}

export function decideFailure(job: Job, retryCount: number, error: Error, handler: Handler | undefined, defaultMax: number): FailureDecision {
  const max = maxRetriesFor(job, handler, defaultMax);
  if (max === false) return { mode: 'drop' };
  if (retryCount >= max) return { mode: 'dead' };
  let delay = sidekiqBackoff(retryCount);
  if (handler?.backoff) {
    let custom = NaN;
    try {
      custom = Number(handler.backoff(retryCount, error));
    } catch {
      /* a throwing backoff falls back to the formula: the failure must still be recorded */
    }
    if (Number.isFinite(custom) && custom >= 0) delay = custom;
  }
  return { mode: 'retry', delaySeconds: delay };
}
