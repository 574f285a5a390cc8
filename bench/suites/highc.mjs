// High-concurrency suite: jobs whose handler waits on a timer of a random 0–20 ms (jittered I/O,
// bench/workers/probe.mjs `sleepMs`), at concurrency 100, 1 000 and 5 000, one worker process per
// system, through the throughput suite's machinery. Per row: jobs/s and the longest command
// Redis ran meanwhile (SLOWLOG / latencystats): a batch that grows with concurrency shows here.
import { throughputRun } from './throughput.mjs';
import { summarizeRuns } from '../lib/run-summary.mjs';

export const HIGHC_CONCURRENCIES = [100, 1_000, 5_000];
export const JITTER_MS = 20;

/** Jobs per row: enough for a few seconds at the peers' rates. */
export function highcJobs(c, quick) {
  if (c <= 100) return quick ? 2_000 : 20_000;
  if (c <= 1_000) return quick ? 5_000 : 40_000;
  return quick ? 10_000 : 60_000;
}

/** o: { concurrencies, reps, quick }. Returns { '<system>:c<C>': [run, …] }. */
export async function highcSuite(systems, redis, o, log, attempt) {
  const raw = {};
  for (let rep = 0; rep < o.reps; rep++) {
    for (const c of o.concurrencies) {
      const jobs = highcJobs(c, o.quick);
      for (const sys of systems) {
        log(`highc rep ${rep + 1}/${o.reps}: ${sys.name} concurrency ${c} × ${jobs} jobs of 0–${JITTER_MS} ms`);
        (raw[`${sys.key}:c${c}`] ??= []).push(
          await attempt(`highc ${sys.key} c${c}`, () => throughputRun(sys, redis, { jobs, concurrency: c, data: { sleepMs: JITTER_MS }, longest: true })),
        );
      }
    }
  }
  return raw;
}

export function summarizeHighc(raw) {
  const out = {};
  for (const [id, runs] of Object.entries(raw)) {
    const s = summarizeRuns(runs);
    if (s) out[id] = s;
  }
  return out;
}
