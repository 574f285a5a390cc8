// Clocks. `monotonicMs()` never jumps when the wall clock is stepped (NTP, a VM resume, an
// operator's `date -s`): every lease, hang and backoff decision is measured on it. Wall-clock
// time (Date.now) is only for what is written down for people and other processes.
import { performance } from 'node:perf_hooks';

/** Milliseconds on a monotonic clock (origin: this process's start). */
export function monotonicMs(): number {
  return performance.now();
}
