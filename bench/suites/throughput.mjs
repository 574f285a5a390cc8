// Throughput of no-op jobs: pre-enqueue N jobs (bulk), reset Redis's command stats, start the
// worker child, poll completions every ~20 ms. Worker startup is excluded: the rate is measured
// from the first poll that sees a completed job to the poll that sees N. Also yields Redis
// commands per job (INFO commandstats at completion, minus the bench's own polls), Redis network
// bytes per job (INFO stats) and the peak RSS of the worker process(es) under load. Options for
// the payload and high-concurrency suites: `data` (every job's data), `chunk` (jobs per bulk
// enqueue call), `longest` (also read the longest command of the run, bench/lib/longest-command.mjs),
// `workArgs` (more `verk work` flags, e.g. --limits).
import { nowMs, parseCommandstats, perJob, round, sleep } from '../lib/stats.mjs';
import { rssMiB } from '../lib/proc.mjs';
import { readLongest, resetLongest } from '../lib/longest-command.mjs';

const POLL_MS = 20;
const STALL_MS = 60_000;
const CHUNK = 1000;

export async function throughputRun(sys, redis, { jobs, concurrency, processes = 1, data, chunk = CHUNK, longest = false, workArgs }) {
  await redis.admin.flushall();
  const producer = sys.producer(redis);
  // `data` may be a function of the job's number (the limits suite gives each job its key).
  for (let i = 0; i < jobs; i += chunk)
    await producer.bulk(Array.from({ length: Math.min(chunk, jobs - i) }, (_, j) => (typeof data === 'function' ? data(i + j) : data)));
  await producer.close();
  await redis.admin.config('RESETSTAT');
  if (longest) await resetLongest(redis.admin);
  const tSpawn = nowMs();
  const w = sys.startWorker(redis, { concurrency, processes, workArgs });
  let first;
  let last = { t: tSpawn, n: 0 };
  let rssPeak = 0;
  let supRssPeak = 0;
  try {
    for (;;) {
      const n = await w.completed();
      const t = nowMs();
      for (const pid of w.workerPids()) rssPeak = Math.max(rssPeak, rssMiB(pid) || 0);
      for (const pid of w.extraPids()) supRssPeak = Math.max(supRssPeak, rssMiB(pid) || 0);
      if (Number.isNaN(n)) throw new Error(`${sys.name} worker exited during the run`);
      if (n > last.n) last = { t, n };
      else if (t - last.t > STALL_MS) throw new Error(`${sys.name}: no progress for ${STALL_MS}ms at ${n}/${jobs}`);
      if (!first && n > 0) first = { t, n };
      if (n >= jobs) break;
      await sleep(POLL_MS);
    }
    const stats = parseCommandstats(await redis.admin.info('commandstats'));
    const longestCommand = longest ? await readLongest(redis.admin) : undefined;
    const net = await redis.admin.info('stats');
    const bytes = (field) => Number(new RegExp(`${field}:(\\d+)`).exec(net)?.[1] ?? NaN);
    const end = last;
    const rate = first.n >= jobs ? NaN : ((jobs - first.n) / (end.t - first.t)) * 1000;
    return {
      jobsPerSec: round(rate),
      firstCompletedAfterMs: round(first.t - tSpawn),
      totalMs: round(end.t - tSpawn),
      measuredJobs: jobs - first.n,
      commands: perJob(stats, jobs, w.ownCommands()),
      /** Bytes Redis received / sent per job (all clients, bench polls included: ~40 B per poll). */
      bytesInPerJob: round(bytes('total_net_input_bytes') / jobs),
      bytesOutPerJob: round(bytes('total_net_output_bytes') / jobs),
      rssLoadMiB: round(rssPeak, 1),
      ...(supRssPeak ? { supervisorRssLoadMiB: round(supRssPeak, 1) } : {}),
      ...(longestCommand ? { longestCommand } : {}),
    };
  } finally {
    await w.stop();
  }
}
