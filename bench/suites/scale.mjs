// The scale suites of issue 12, as run.mjs runs them: fleet (idle Redis load of N nodes),
// payload (100 B … 200 KB) and highc (jittered jobs at concurrency up to 5 000). Their
// parameters (with the --quick and --fleet-* / --slowlog-us overrides), the runs, and the
// report (tables printed and stored in the JSON results).
import { prepareLongest } from '../lib/longest-command.mjs';
import { fleetTables } from '../lib/report-issue12.mjs';
import { highcTable, payloadTable } from '../lib/report-issue12.mjs';
import { fleetSuite } from './fleet.mjs';
import { highcSuite, summarizeHighc, HIGHC_CONCURRENCIES, JITTER_MS } from './highc.mjs';
import { payloadSuite, summarizePayload, PAYLOAD_SIZES } from './payload.mjs';

export const SCALE_SUITES = ['fleet', 'payload', 'highc'];

const list = (s) => (s === undefined ? undefined : s.split(',').filter(Boolean).map(Number));

/** opt(name) reads --name=value. */
export function scaleParams(opt, quick, reps) {
  return {
    fleet: {
      sizes: list(opt('fleet-sizes')) ?? (quick ? [10] : [10, 100, 1000, 5000]),
      realSizes: list(opt('fleet-real')) ?? (quick ? [10] : [10, 50]),
      warmupMs: Number(opt('fleet-warmup') ?? (quick ? 3 : 10)) * 1000,
      windowMs: Number(opt('fleet-window') ?? (quick ? 10 : 30)) * 1000,
      heapLimitMiB: Number(opt('fleet-heap-mib') ?? 6000),
    },
    payload: { sizes: list(opt('payload-sizes')) ?? PAYLOAD_SIZES, reps, quick },
    highc: { concurrencies: list(opt('highc')) ?? HIGHC_CONCURRENCIES, reps, quick },
    slowlogUs: Number(opt('slowlog-us') ?? 1000),
  };
}

/** Fleet needs more clients than Redis's default 10 000 at 5 000 pods (three connections each). */
export const redisOptions = (suites) => (suites.has('fleet') ? { maxclients: 19_000 } : {});

export async function runScaleSuites({ suites, systems, only, redis, S, log, attempt }) {
  const raw = {};
  if (suites.has('payload') || suites.has('highc')) await prepareLongest(redis.admin, S.slowlogUs);
  if (suites.has('fleet')) raw.fleet = await fleetSuite(redis, { ...S.fleet, only }, log, attempt);
  if (suites.has('payload')) raw.payload = await payloadSuite(systems, redis, S.payload, log, attempt);
  if (suites.has('highc')) raw.highc = await highcSuite(systems, redis, S.highc, log, attempt);
  return raw;
}

/** { summary, text } for what ran. */
export function scaleReport(raw, S) {
  const summary = {};
  const parts = [];
  if (raw.fleet) {
    summary.fleet = raw.fleet;
    parts.push(
      `### Idle fleet (issue 12): Redis load of N idle single-process nodes, ${S.fleet.warmupMs / 1000}s warm-up, ${S.fleet.windowMs / 1000}s window; verk column = simulated pods`,
      fleetTables(raw.fleet, S.fleet.sizes, S.fleet.realSizes),
    );
  }
  if (raw.payload) {
    summary.payload = summarizePayload(raw.payload);
    parts.push(`### Payload size (issue 12): concurrency 10, args = one string of the size, median of ${S.payload.reps}`, payloadTable(summary.payload, S.payload.sizes));
  }
  if (raw.highc) {
    summary.highc = summarizeHighc(raw.highc);
    parts.push(
      `### High concurrency (issue 12): handlers await a random 0–${JITTER_MS} ms timer, one worker process, median of ${S.highc.reps}`,
      highcTable(summary.highc, S.highc.concurrencies),
    );
  }
  return { summary, text: parts.join('\n\n') };
}
