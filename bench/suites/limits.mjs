// `npm run bench -- --suites=limits [--quick]`: the cost of a cluster-wide limit (docs/limits.md).
// The same no-op load twice on verk (one process, concurrency 50): unlimited, and with the queue
// limited to 5 running jobs per key over 100 keys (`args[0].account`, so 100 × 5 = 500 ≥ 50 slots:
// the limit never makes a worker wait, only its bookkeeping costs). Each job carries its key in
// both runs, so the payloads are the same. Reports jobs/s and Redis commands per job, and the ratio.
import { median, round } from '../lib/stats.mjs';
import { throughputRun } from './throughput.mjs';

const KEYS = 100;
const CONCURRENCY = 50;
const LIMIT = JSON.stringify({ bench: { key: 'args[0].account', concurrency: 5 } });

export async function limitsRun(verk, redis, { jobs, reps, log, attempt }) {
  const data = (i) => ({ account: `acct-${i % KEYS}` });
  const runs = { unlimited: [], limited: [] };
  for (let rep = 0; rep < reps; rep++) {
    for (const [name, workArgs] of [
      ['unlimited', []],
      ['limited', ['--limits', LIMIT]],
    ]) {
      log(`limits rep ${rep + 1}/${reps}: ${name}`);
      runs[name].push(await attempt(`limits ${name}`, () => throughputRun(verk, redis, { jobs, concurrency: CONCURRENCY, data, workArgs })));
    }
  }
  const summary = {};
  for (const [name, rs] of Object.entries(runs)) {
    const ok = rs.filter((r) => !r.error);
    summary[name] = ok.length
      ? { jobsPerSec: median(ok.map((r) => r.jobsPerSec)), commandsPerJob: median(ok.map((r) => r.commands.total)), runs: ok.map((r) => r.jobsPerSec) }
      : { error: rs[0]?.error };
  }
  const u = summary.unlimited;
  const l = summary.limited;
  const ratio = u.jobsPerSec && l.jobsPerSec ? round(l.jobsPerSec / u.jobsPerSec, 2) : undefined;
  const text = [
    `limits: ${jobs} no-op jobs over ${KEYS} keys, verk --processes 1, concurrency ${CONCURRENCY}; limited = concurrency 5 per key (never binding); median of ${reps}`,
    '',
    '| run | jobs/s | Redis commands per job |',
    '| --- | --- | --- |',
    `| unlimited | ${u.jobsPerSec ?? u.error} | ${u.commandsPerJob ?? ''} |`,
    `| limited (5 per key, 100 keys) | ${l.jobsPerSec ?? l.error} | ${l.commandsPerJob ?? ''} |`,
    '',
    `limited ÷ unlimited throughput: ${ratio ?? 'n/a'}`,
  ].join('\n');
  return { summary: { ...summary, ratio }, raw: runs, text };
}
