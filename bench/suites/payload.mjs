// Payload suite: no-op jobs whose args hold one string of 100 B, 2 KB, 20 KB or 200 KB, through
// the throughput suite's machinery (pre-enqueued in bulk, worker child started after, rate from
// the first to the last completion) at concurrency 10, each system in turn, repetitions
// interleaved. Per row: jobs/s, Redis network bytes in + out per job (the worker's fetches and
// acks; the bench's polls add ~40 B per 20 ms), that ÷ payload size, and the longest command.
import { throughputRun } from './throughput.mjs';
import { summarizeRuns } from '../lib/run-summary.mjs';

export const PAYLOAD_SIZES = [100, 2_000, 20_000, 200_000];
const CONCURRENCY = 10;

/** Jobs per row: fewer at large payloads so that each row takes seconds. */
export function payloadJobs(size, quick) {
  if (size <= 2_000) return quick ? 2_000 : 20_000;
  if (size <= 20_000) return quick ? 500 : 5_000;
  return quick ? 200 : 2_000;
}

export const sizeLabel = (size) => (size >= 1000 ? `${size / 1000} KB` : `${size} B`);

/** o: { sizes, reps, quick }. Returns { '<system>:<size>': [run, …] }. */
export async function payloadSuite(systems, redis, o, log, attempt) {
  const raw = {};
  for (let rep = 0; rep < o.reps; rep++) {
    for (const size of o.sizes) {
      const jobs = payloadJobs(size, o.quick);
      // Bulk calls of at most ~4 MB (1 000 jobs at most).
      const chunk = Math.max(1, Math.min(1000, Math.floor(4_000_000 / size)));
      const data = { s: 'x'.repeat(size) };
      for (const sys of systems) {
        log(`payload rep ${rep + 1}/${o.reps}: ${sys.name} ${sizeLabel(size)} × ${jobs}`);
        (raw[`${sys.key}:${size}`] ??= []).push(
          await attempt(`payload ${sys.key} ${size}`, () => throughputRun(sys, redis, { jobs, concurrency: CONCURRENCY, data, chunk, longest: true })),
        );
      }
    }
  }
  return raw;
}

/** { '<system>:<size>': summary } with bytes per job ÷ payload size. */
export function summarizePayload(raw) {
  const out = {};
  for (const [id, runs] of Object.entries(raw)) {
    const s = summarizeRuns(runs);
    if (!s) continue;
    const size = Number(id.split(':')[1]);
    out[id] = { ...s, payloadBytes: size, bytesPerPayloadByte: s.bytesPerJob / size };
  }
  return out;
}
