// Clocks. `monotonicMs()` never jumps when the wall clock is stepped (NTP, a VM resume, an
// operator's `date -s`): every lease, hang and backoff decision is measured on it. Wall-clock
// time (Date.now) is only for what is written down for people and other processes.
import { performance } from 'node:perf_hooks';

/** Milliseconds on a monotonic clock (origin: this process's start). */
export function monotonicMs(): number {
  return performance.now();
}

/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC): one origin for every process
 * on the machine, so a supervisor can tell its worker processes a deadline on it.
 */
export function systemMonotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
