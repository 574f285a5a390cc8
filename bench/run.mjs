// `npm run bench [-- --quick] [--only=verk,bullmq,bee] [--suites=enqueue,latency,throughput,fleet,payload,highc,limits]
// [--redis-core=N]` (the last: Redis pinned to CPU N at real-time priority, bench/lib/redis-server.mjs)
// Runs verk, BullMQ and Bee-Queue side by side against one private redis-server started here
// (stopped by PID at the end): enqueue throughput, pickup latency + RSS at rest, and no-op
// throughput at concurrency 10 and 50 (+ verk --processes 2) with commands per job and RSS
// under load (the default suites); on request the scale suites of issue 12 (bench/suites/
// scale.mjs: idle fleet, payload size, high concurrency) and the cost of a cluster-wide limit
// (bench/suites/limits.mjs). Prints markdown tables and writes
// bench/results/<timestamp>.json.
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { startRedis } from './lib/redis-server.mjs';
import { startProbeServer } from './lib/probe-server.mjs';
import { killTracked } from './lib/proc.mjs';
import { median, round } from './lib/stats.mjs';
import { markdownTable, targets } from './lib/report.mjs';
import { enqueueRun } from './suites/enqueue.mjs';
import { latencyRun } from './suites/latency.mjs';
import { throughputRun } from './suites/throughput.mjs';
import { limitsRun } from './suites/limits.mjs';
import { redisOptions, runScaleSuites, scaleParams, scaleReport } from './suites/scale.mjs';
import verk, { cleanupVerk } from './systems/verk.mjs';
import bullmq from './systems/bullmq.mjs';
import bee from './systems/bee.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = flag('quick');
const P = {
  jobs: Number(opt('jobs') ?? (quick ? 2000 : 20_000)),
  reps: Number(opt('reps') ?? (quick ? 1 : 3)),
  concurrencies: [10, 50],
  verkProcesses: [1, 2],
  enqueue: quick ? { sequential: 500, concurrent: 2000, bulk: 2000 } : { sequential: 5000, concurrent: 20_000, bulk: 20_000 },
  latencySamples: Number(opt('samples') ?? (quick ? 100 : 500)),
};
const only = new Set((opt('only') ?? 'verk,bullmq,bee').split(','));
const suites = new Set((opt('suites') ?? 'enqueue,latency,throughput').split(','));
const systems = [verk, bullmq, bee].filter((s) => only.has(s.key));
const S = scaleParams(opt, quick, P.reps);
const mainSuites = ['enqueue', 'latency', 'throughput'].some((s) => suites.has(s));

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

async function attempt(what, fn) {
  try {
    return await fn();
  } catch (err) {
    log(`${what} failed: ${err.stack ?? err}`);
    return { error: String(err.message ?? err) };
  }
}

async function main() {
  const t0 = Date.now();
  const redis = await startRedis(redisOptions(suites));
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      log(`${sig}: stopping the workers and redis-server (pid ${redis.pid})`);
      killTracked();
      cleanupVerk();
      redis.stop().finally(() => process.exit(130));
    });
  }
  const probe = await startProbeServer();
  const serverInfo = await redis.admin.info('server');
  const meta = {
    date: new Date().toISOString(),
    quick,
    params: P,
    scaleParams: S,
    node: process.version,
    redis: /redis_version:(\S+)/.exec(serverInfo)?.[1],
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    /** 1/5/15-minute load averages at the start (the machine is shared: a high load means noisy rates). */
    loadavg: os.loadavg().map((x) => round(x, 2)),
    platform: `${os.platform()} ${os.release()}`,
    versions: {
      bullmq: pkgVersion('bullmq'),
      'bee-queue': pkgVersion('bee-queue'),
      ioredis: pkgVersion('ioredis'),
    },
    throughputMethod:
      'jobs pre-enqueued with bulk calls, worker started after; rate = jobs completed between the first poll that sees a completed job and the poll that sees all N, divided by that time (worker startup excluded); polls every 20 ms',
  };
  log(`redis-server ${meta.redis} pid ${redis.pid} on 127.0.0.1:${redis.port}; ${quick ? 'quick' : 'full'} run`);
  const raw = { enqueue: {}, latency: {}, throughput: {} };
  let scaleRaw = {};
  let limitsResult;
  try {
    if (suites.has('enqueue')) {
      for (const sys of systems) {
        log(`enqueue: ${sys.name}`);
        raw.enqueue[sys.key] = await attempt(`enqueue ${sys.name}`, () => enqueueRun(sys, redis, P.enqueue));
      }
    }
    if (suites.has('latency')) {
      for (const sys of systems) {
        log(`pickup latency: ${sys.name}`);
        raw.latency[sys.key] = await attempt(`latency ${sys.name}`, () => latencyRun(sys, redis, probe, { samples: P.latencySamples }));
      }
    }
    if (suites.has('throughput')) {
      const variants = [];
      for (const c of P.concurrencies) {
        for (const sys of systems) {
          const procs = sys.key === 'verk' ? P.verkProcesses : [1];
          for (const p of procs) variants.push({ sys, c, p, id: `${sys.key}:c${c}:p${p}` });
        }
      }
      // Repetitions are interleaved across systems so drift (thermal, page cache) hits all alike.
      for (let rep = 0; rep < P.reps; rep++) {
        for (const v of variants) {
          log(`throughput rep ${rep + 1}/${P.reps}: ${v.sys.name} c${v.c} processes ${v.p}`);
          (raw.throughput[v.id] ??= []).push(await attempt(`throughput ${v.id}`, () => throughputRun(v.sys, redis, { jobs: P.jobs, concurrency: v.c, processes: v.p })));
        }
      }
    }
    scaleRaw = await runScaleSuites({ suites, systems, only, redis, S, log, attempt });
    if (suites.has('limits')) limitsResult = await limitsRun(verk, redis, { jobs: P.jobs, reps: P.reps, log, attempt });
  } finally {
    probe.close();
    await redis.stop();
    cleanupVerk();
  }

  const summary = summarize(raw);
  const table = markdownTable(rows(summary));
  const scale = scaleReport(scaleRaw, S);
  const elapsed = round((Date.now() - t0) / 1000, 1);
  meta.loadavgEnd = os.loadavg().map((x) => round(x, 2));
  const header = [
    `verk bench — ${quick ? 'QUICK' : 'full'} run, ${meta.date}`,
    `machine: ${meta.cpus} × ${meta.cpuModel}; Node ${meta.node}; Redis ${meta.redis}; BullMQ ${meta.versions.bullmq}; Bee-Queue ${meta.versions['bee-queue']}; load average ${meta.loadavg.join(' ')} at start, ${meta.loadavgEnd.join(' ')} at end`,
    `throughput: ${P.jobs} no-op jobs, median of ${P.reps}; ${meta.throughputMethod}`,
    `enqueue: ${P.enqueue.sequential} sequential awaits, ${P.enqueue.concurrent} in flight at once, ${P.enqueue.bulk} in bulk calls of 1000; latency: ${P.latencySamples} samples, one job at a time on an idle queue (worker concurrency 10)`,
    `commands per job: INFO commandstats after CONFIG RESETSTAT, calls inside Lua scripts included, bench polls excluded; RSS: VmRSS of the worker process (verk: the worker child of the supervisor)`,
  ];
  if (mainSuites) {
    console.log(`\n${header.join('\n')}\n\n${table}\n`);
    console.log(commandBreakdown(summary));
  } else console.log(`\n${header.slice(0, 2).join('\n')}`);
  if (scale.text) console.log(`\n${scale.text}\n`);
  if (limitsResult) console.log(`\n${limitsResult.text}\n`);
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  fs.mkdirSync(dir, { recursive: true });
  const file = `${dir}${meta.date.replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`;
  fs.writeFileSync(
    file,
    `${JSON.stringify({ meta, summary: { ...summary, ...scale.summary, ...(limitsResult ? { limits: limitsResult.summary } : {}) }, raw: { ...raw, ...scaleRaw, ...(limitsResult ? { limits: limitsResult.raw } : {}) }, table, scaleTables: scale.text, elapsedSeconds: elapsed }, null, 2)}\n`,
  );
  log(`done in ${elapsed}s; results in ${file}`);
}

function pkgVersion(name) {
  try {
    const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return JSON.parse(fs.readFileSync(url, 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** Medians over repetitions (runs that errored are left out). */
function summarize(raw) {
  const tp = {};
  for (const [id, runs] of Object.entries(raw.throughput)) {
    const ok = runs.filter((r) => !r.error);
    if (!ok.length) continue;
    const med = (f) => median(ok.map(f));
    const mid = ok.find((r) => r.jobsPerSec === med((r) => r.jobsPerSec)) ?? ok[0];
    tp[id] = {
      jobsPerSec: med((r) => r.jobsPerSec),
      runs: ok.map((r) => r.jobsPerSec),
      commandsPerJob: med((r) => r.commands.total),
      commandBreakdown: mid.commands.breakdown,
      bytesInPerJob: med((r) => r.bytesInPerJob),
      bytesOutPerJob: med((r) => r.bytesOutPerJob),
      rssLoadMiB: Math.max(...ok.map((r) => r.rssLoadMiB)),
      ...(ok[0].supervisorRssLoadMiB ? { supervisorRssLoadMiB: Math.max(...ok.map((r) => r.supervisorRssLoadMiB)) } : {}),
    };
  }
  return { throughput: tp, enqueue: raw.enqueue, latency: raw.latency };
}

function rows(s) {
  const t = (key, c, p = 1) => s.throughput[`${key}:c${c}:p${p}`];
  const r = [];
  for (const c of P.concurrencies) {
    r.push({
      label: `throughput, concurrency ${c} (jobs/s)`,
      verk: t('verk', c)?.jobsPerSec,
      bullmq: t('bullmq', c)?.jobsPerSec,
      bee: t('bee', c)?.jobsPerSec,
      target: targets.throughput,
    });
  }
  for (const c of P.concurrencies) {
    r.push({
      label: `throughput, verk --processes 2 × c${c} vs peers' 1 × c${c} (jobs/s)`,
      verk: t('verk', c, 2)?.jobsPerSec,
      bullmq: t('bullmq', c)?.jobsPerSec,
      bee: t('bee', c)?.jobsPerSec,
    });
  }
  const e = (key, f) => s.enqueue[key]?.[f];
  r.push({
    label: 'enqueue, single, sequential awaits (jobs/s)',
    verk: e('verk', 'sequentialPerSec'),
    bullmq: e('bullmq', 'sequentialPerSec'),
    bee: e('bee', 'sequentialPerSec'),
  });
  r.push({
    label: 'enqueue, single, all in flight (jobs/s)',
    verk: e('verk', 'concurrentPerSec'),
    bullmq: e('bullmq', 'concurrentPerSec'),
    bee: e('bee', 'concurrentPerSec'),
  });
  r.push({
    label: 'enqueue, unique job (own key), sequential awaits (jobs/s)',
    verk: e('verk', 'uniqueSequentialPerSec'),
  });
  r.push({
    label: 'enqueue, bulk of 1000 (jobs/s)',
    verk: e('verk', 'bulkPerSec'),
    bullmq: e('bullmq', 'bulkPerSec'),
    bee: e('bee', 'bulkPerSec'),
    target: targets.bulk,
  });
  const l = (key, f) => s.latency[key]?.[f];
  r.push({
    label: 'pickup latency p50, idle queue (ms)',
    verk: l('verk', 'p50Ms'),
    bullmq: l('bullmq', 'p50Ms'),
    bee: l('bee', 'p50Ms'),
    digits: 3,
    target: targets.p50,
  });
  r.push({
    label: 'pickup latency p99, idle queue (ms)',
    verk: l('verk', 'p99Ms'),
    bullmq: l('bullmq', 'p99Ms'),
    bee: l('bee', 'p99Ms'),
    digits: 3,
    target: targets.p99,
  });
  for (const c of P.concurrencies) {
    r.push({
      label: `Redis commands per job, c${c}`,
      verk: t('verk', c)?.commandsPerJob,
      bullmq: t('bullmq', c)?.commandsPerJob,
      bee: t('bee', c)?.commandsPerJob,
      digits: 2,
      target: targets.commands,
    });
  }
  for (const c of P.concurrencies) {
    r.push({ label: `Redis network bytes in + out per job, c${c}`, verk: bytesPerJob(t('verk', c)), bullmq: bytesPerJob(t('bullmq', c)), bee: bytesPerJob(t('bee', c)) });
  }
  r.push({ label: 'worker RSS at rest (MiB)', verk: l('verk', 'rssRestMiB'), bullmq: l('bullmq', 'rssRestMiB'), bee: l('bee', 'rssRestMiB'), digits: 1 });
  const peak = (key) => Math.max(...P.concurrencies.map((c) => t(key, c)?.rssLoadMiB ?? NaN));
  r.push({ label: 'worker RSS under load, peak (MiB)', verk: peak('verk'), bullmq: peak('bullmq'), bee: peak('bee'), digits: 1 });
  return r;
}

const bytesPerJob = (x) => (x ? x.bytesInPerJob + x.bytesOutPerJob : undefined);

function commandBreakdown(s) {
  const lines = ['Redis commands per job, by command (concurrency 10, median run):'];
  for (const key of ['verk', 'bullmq', 'bee']) {
    const b = s.throughput[`${key}:c10:p1`]?.commandBreakdown;
    const x = s.throughput[`${key}:c10:p1`];
    if (b)
      lines.push(
        `- ${key}: ${Object.entries(b)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} (bytes/job: ${x.bytesInPerJob} in, ${x.bytesOutPerJob} out)`,
      );
  }
  const enq = ['verk', 'bullmq', 'bee']
    .filter((k) => s.latency[k]?.enqueueCallP50Ms !== undefined)
    .map((k) => `${k} ${s.latency[k].enqueueCallP50Ms} ms + ${s.latency[k].afterEnqueueP50Ms} ms`);
  if (enq.length) lines.push(`pickup latency = producer's enqueue call + handler start after it returned (p50 each): ${enq.join(', ')}`);
  const sup = s.throughput['verk:c10:p1']?.supervisorRssLoadMiB;
  const supRest = s.latency.verk?.supervisorRssRestMiB;
  if (sup || supRest) lines.push(`verk supervisor process RSS: ${supRest ?? '–'} MiB at rest, ${sup ?? '–'} MiB under load (not included above)`);
  return lines.join('\n');
}

main().catch((err) => {
  log(err.stack ?? String(err));
  process.exitCode = 1;
});
