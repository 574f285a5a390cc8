// Failed sign-ins per client address (WEB_LOGIN in src/config/defaults.ts): a guesser gets
// maxFailures tries per windowMs across every way to present a credential (the login form, a
// Bearer token, Basic, a session cookie), then 429 with Retry-After until its oldest counted
// failure leaves the window. In memory, per dashboard process: N dashboards behind one address
// allow N × maxFailures. A request that brings no credential is no guess and is not counted.
import { WEB_LOGIN } from '../config/defaults.js';

export class FailedLogins {
  /** Per address, the times of its counted failures, oldest first (at most maxFailures). */
  private readonly seen = new Map<string, number[]>();

  constructor(
    private readonly limits: { maxFailures: number; windowMs: number; maxAddresses: number } = WEB_LOGIN,
    private readonly now: () => number = Date.now,
  ) {}

  /** How long (ms) the address must wait before its next credential is checked; 0 = now. */
  retryAfterMs(addr: string): number {
    const times = this.recent(addr);
    if (times.length < this.limits.maxFailures) return 0;
    return Math.max(1, times[0] + this.limits.windowMs - this.now());
  }

  /** Counts a failed sign-in; true when this failure used up the address's tries (it is locked out now). */
  fail(addr: string): boolean {
    const times = this.recent(addr);
    times.push(this.now());
    while (times.length > this.limits.maxFailures) times.shift();
    // Re-inserted last: the Map's first entry is the address seen longest ago.
    this.seen.delete(addr);
    this.seen.set(addr, times);
    while (this.seen.size > this.limits.maxAddresses) this.seen.delete(this.seen.keys().next().value as string);
    return times.length >= this.limits.maxFailures;
  }

  private recent(addr: string): number[] {
    const times = this.seen.get(addr) ?? [];
    const from = this.now() - this.limits.windowMs;
    while (times.length > 0 && times[0] <= from) times.shift();
    if (times.length === 0) this.seen.delete(addr);
    return times;
  }
}
