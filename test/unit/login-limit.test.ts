// FailedLogins (src/web/login-limit.ts) on a made-up clock: maxFailures per sliding window, the
// wait is until the oldest counted failure leaves it, and the memory is bounded.
import { describe, expect, it } from 'vitest';
import { FailedLogins } from '../../src/web/login-limit.js';

describe('FailedLogins', () => {
  it('locks an address out at the limit, until its oldest failure is a window old; others are not affected', () => {
    let now = 1_000;
    const l = new FailedLogins({ maxFailures: 3, windowMs: 100, maxAddresses: 10 }, () => now);
    expect(l.fail('a')).toBe(false);
    now += 10;
    expect(l.fail('a')).toBe(false);
    expect(l.retryAfterMs('a')).toBe(0);
    now += 10;
    expect(l.fail('a')).toBe(true);
    expect(l.retryAfterMs('a')).toBe(80);
    expect(l.retryAfterMs('b')).toBe(0);
    now = 1_100; // the first failure leaves the window
    expect(l.retryAfterMs('a')).toBe(0);
    expect(l.fail('a')).toBe(true);
    expect(l.retryAfterMs('a')).toBe(10);
  });

  it('forgets the address seen longest ago beyond maxAddresses', () => {
    const now = 0;
    const l = new FailedLogins({ maxFailures: 1, windowMs: 1000, maxAddresses: 2 }, () => now);
    l.fail('a');
    l.fail('b');
    l.fail('a'); // seen again: now the newest
    l.fail('c'); // evicts b
    expect([l.retryAfterMs('a') > 0, l.retryAfterMs('b') > 0, l.retryAfterMs('c') > 0]).toEqual([true, false, true]);
  });
});
