// Unit tests for src/core/retry-policy.ts: Sidekiq backoff, retry-limit precedence, retry/dead/drop decisions.
import { describe, expect, it } from 'vitest';
import { decideFailure, maxRetriesFor, sidekiqBackoff } from '../../src/core/retry-policy.js';
import { decodeJob, type Job } from '../../src/job/codec.js';
import type { Handler } from '../../src/core/handlers.js';

function job(fields: Record<string, unknown> = {}): Job {
  const r = decodeJob(JSON.stringify({ class: 'A', args: [], jid: 'j', ...fields }));
  if (!r.ok) throw new Error(r.error);
  return r.job;
}

function handler(over: Partial<Handler> = {}): Handler {
  return { className: 'A', file: '/jobs/A.ts', perform: () => undefined, ...over };
}

const err = new Error('boom');

describe('sidekiqBackoff', () => {
  it('is count⁴ + 15 with no jitter when random() is 0', () => {
    expect(sidekiqBackoff(0, () => 0)).toBe(15);
    expect(sidekiqBackoff(1, () => 0)).toBe(16);
    expect(sidekiqBackoff(3, () => 0)).toBe(81 + 15);
    expect(sidekiqBackoff(24, () => 0)).toBe(24 ** 4 + 15);
  });

  it('adds floor(random·10)·(count+1)', () => {
    expect(sidekiqBackoff(0, () => 0.5)).toBe(15 + 5);
    expect(sidekiqBackoff(2, () => 0.99)).toBe(16 + 15 + 9 * 3);
    expect(sidekiqBackoff(2, () => 0.19)).toBe(16 + 15 + 1 * 3);
  });

  it('stays within Sidekiq bounds with the real random', () => {
    for (let i = 0; i < 200; i++) {
      const d = sidekiqBackoff(5);
      expect(d).toBeGreaterThanOrEqual(625 + 15);
      expect(d).toBeLessThanOrEqual(625 + 15 + 9 * 6);
      expect(Number.isInteger(d)).toBe(true);
    }
  });
});

describe('maxRetriesFor', () => {
  it("uses the job's retry number or false first", () => {
    expect(maxRetriesFor(job({ retry: 3 }), handler({ retry: 10 }), 25)).toBe(3);
    expect(maxRetriesFor(job({ retry: 0 }), handler({ retry: 10 }), 25)).toBe(0);
    expect(maxRetriesFor(job({ retry: false }), handler({ retry: 10 }), 25)).toBe(false);
  });

  it("uses verk's max_retry_count when the job has no retry number", () => {
    expect(maxRetriesFor(job({ max_retry_count: 4 }), handler({ retry: 10 }), 25)).toBe(4);
    expect(maxRetriesFor(job({ retry: true, max_retry_count: 4 }), handler({ retry: 10 }), 25)).toBe(4);
    expect(maxRetriesFor(job({ retry: 2, max_retry_count: 4 }), undefined, 25)).toBe(2);
  });

  it("falls back to the handler's option, then the default", () => {
    expect(maxRetriesFor(job({ retry: true }), handler({ retry: 10 }), 25)).toBe(10);
    expect(maxRetriesFor(job({ max_retry_count: null }), handler({ retry: false }), 25)).toBe(false);
    expect(maxRetriesFor(job({ retry: true }), handler({ retry: true }), 25)).toBe(25);
    expect(maxRetriesFor(job(), handler(), 7)).toBe(7);
    expect(maxRetriesFor(job(), undefined, 7)).toBe(7);
  });

  it('ignores a retry value that is not true/false/whole number', () => {
    expect(maxRetriesFor(job({ retry: -1 }), undefined, 25)).toBe(25);
    expect(maxRetriesFor(job({ retry: 'yes' }), undefined, 25)).toBe(25);
    expect(maxRetriesFor(job({ retry: 2.5 }), handler({ retry: 4 }), 25)).toBe(4);
  });
});

describe('decideFailure', () => {
  it('retry: 0 sends the first failure to dead', () => {
    expect(decideFailure(job({ retry: 0 }), 0, err, undefined, 25)).toEqual({ mode: 'dead' });
  });

  it('retry: false drops the job', () => {
    expect(decideFailure(job({ retry: false }), 0, err, handler({ retry: 5 }), 25)).toEqual({ mode: 'drop' });
    expect(decideFailure(job(), 0, err, handler({ retry: false }), 25)).toEqual({ mode: 'drop' });
  });

  it('25 retries mean 26 executions: count 24 retries, count 25 is dead', () => {
    const j = job({ retry: true });
    let executions = 1;
    for (let count = 0; ; count++) {
      const d = decideFailure(j, count, err, undefined, 25);
      if (d.mode !== 'retry') {
        expect(d.mode).toBe('dead');
        expect(count).toBe(25);
        break;
      }
      executions++;
    }
    expect(executions).toBe(26);
    expect(decideFailure(j, 24, err, undefined, 25).mode).toBe('retry');
    expect(decideFailure(j, 25, err, undefined, 25).mode).toBe('dead');
  });

  it('honours a job retry number over the default', () => {
    expect(decideFailure(job({ retry: 1 }), 0, err, undefined, 25).mode).toBe('retry');
    expect(decideFailure(job({ retry: 1 }), 1, err, undefined, 25).mode).toBe('dead');
  });

  it("retries after Sidekiq's backoff for that count", () => {
    const d = decideFailure(job(), 3, err, undefined, 25);
    expect(d.mode).toBe('retry');
    if (d.mode === 'retry') {
      expect(d.delaySeconds).toBeGreaterThanOrEqual(81 + 15);
      expect(d.delaySeconds).toBeLessThanOrEqual(81 + 15 + 9 * 4);
    }
  });

  it("uses the handler's backoff, given the count and the error", () => {
    const seen: [number, Error][] = [];
    const h = handler({
      backoff: (count, e) => {
        seen.push([count, e]);
        return 7 * (count + 1);
      },
    });
    expect(decideFailure(job(), 2, err, h, 25)).toEqual({ mode: 'retry', delaySeconds: 21 });
    expect(seen).toEqual([[2, err]]);
    expect(decideFailure(job(), 0, err, handler({ backoff: () => 0 }), 25)).toEqual({ mode: 'retry', delaySeconds: 0 });
  });

  it('falls back to the formula when the handler backoff returns nonsense', () => {
    for (const bad of [NaN, -5, Infinity, 'soon' as unknown as number]) {
      const d = decideFailure(job(), 0, err, handler({ backoff: () => bad }), 25);
      expect(d.mode).toBe('retry');
      if (d.mode === 'retry') expect(d.delaySeconds).toBeGreaterThanOrEqual(15);
    }
  });

  it('falls back to the formula when the handler backoff throws', () => {
    const h = handler({
      backoff: () => {
        throw new Error('bad backoff');
      },
    });
    const d = decideFailure(job(), 1, err, h, 25);
    expect(d.mode).toBe('retry');
    if (d.mode === 'retry') expect(d.delaySeconds).toBeGreaterThanOrEqual(16);
  });

  it('does not call the handler backoff for a job going to dead', () => {
    let called = false;
    const h = handler({
      retry: 0,
      backoff: () => {
        called = true;
        return 1;
      },
    });
    expect(decideFailure(job(), 0, err, h, 25)).toEqual({ mode: 'dead' });
    expect(called).toBe(false);
  });
});
