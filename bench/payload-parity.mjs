// `npm run build && node bench/payload-parity.mjs [--sizes=100,2000,20000,200000] [--only=verk,bee]
// [--reps=1] [--concurrency=10]`: no-op throughput with a payload of each size, verk next to
// Bee-Queue (and BullMQ with --only), on one private redis-server (stopped by PID at the end).
// Per row: jobs/s, bytes Redis received and sent per job (INFO stats, all clients), Redis CPU per
// job (INFO cpu, user + sys), time in scripts per job and the worker process's CPU per job
// (/proc), and the longest command (SLOWLOG, threshold 0 for the run: the
// slowlog's own cost is in every system's figures alike). A small measuring script of the ack
// path (issue 12); bench/run.mjs is the full side-by-side bench.
import fs from 'node:fs';
import { startRedis } from './lib/redis-server.mjs';
import { killTracked } from './lib/proc.mjs';
import { median, nowMs, round, sleep } from './lib/stats.mjs';
import verk, { cleanupVerk } from './systems/verk.mjs';
import bullmq from './systems/bullmq.mjs';
import bee from './systems/bee.mjs';

const argv = process.argv.slice(2);
const opt = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const sizes = (opt('sizes') ?? '100,2000,20000,200000').split(',').map(Number);
const reps = Number(opt('reps') ?? 1);
const concurrency = Number(opt('concurrency') ?? 10);
const only = new Set((opt('only') ?? 'verk,bee').split(','));
const systems = [verk, bullmq, bee].filter((s) => only.has(s.key));
/** Jobs per run: fewer for big payloads (Redis holds them all at once). */
const jobsFor = (size) => Number(opt('jobs') ?? (size >= 100_000 ? 1500 : size >= 10_000 ? 5000 : 10_000));
const log = (msg) => process.stderr.write(`[payload] ${msg}\n`);

/** CPU seconds (user + sys) a process has used, from /proc/<pid>/stat; 0 once it is gone. */
function cpuSeconds(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

const info = async (redis, section, field) => Number(new RegExp(`${field}:([\\d.]+)`).exec(await redis.admin.info(section))?.[1] ?? NaN);

async function run(sys, redis, size) {
  const jobs = jobsFor(size);
  await redis.admin.flushall();
  const data = { blob: 'x'.repeat(Math.max(0, size - 60)) };
  const producer = sys.producer(redis);
  for (let i = 0; i < jobs; i += 200) await producer.bulk(new Array(Math.min(200, jobs - i)).fill(data));
  await producer.close();
  await redis.admin.config('SET', 'slowlog-log-slower-than', '0');
  await redis.admin.config('SET', 'slowlog-max-len', '1000000');
  await redis.admin.slowlog('RESET');
  await redis.admin.config('RESETSTAT');
  const cpu0 = (await info(redis, 'cpu', 'used_cpu_user')) + (await info(redis, 'cpu', 'used_cpu_sys'));
  const w = sys.startWorker(redis, { concurrency, processes: 1 });
  let first;
  let last;
  const cpuAt = new Map();
  try {
    for (;;) {
      const n = await w.completed();
      const t = nowMs();
      for (const pid of w.workerPids()) if (!cpuAt.has(pid)) cpuAt.set(pid, cpuSeconds(pid));
      if (Number.isNaN(n)) throw new Error(`${sys.name} worker exited`);
      if (n > 0 && !first) first = { t, n };
      if (!last || n > last.n) last = { t, n };
      else if (t - last.t > 60_000) throw new Error(`${sys.name}: stalled at ${n}/${jobs}`);
      if (n >= jobs) break;
      await sleep(20);
    }
    const cpu1 = (await info(redis, 'cpu', 'used_cpu_user')) + (await info(redis, 'cpu', 'used_cpu_sys'));
    const bytesIn = await info(redis, 'stats', 'total_net_input_bytes');
    const bytesOut = await info(redis, 'stats', 'total_net_output_bytes');
    const workerCpu = [...cpuAt].reduce((t, [pid, c0]) => t + cpuSeconds(pid) - c0, 0);
    const slow = await redis.admin.slowlog('GET', 1_000_000);
    let longest = { us: 0, cmd: '' };
    let scriptUs = 0;
    for (const e of slow) {
      const cmd = String(e[3][0]).toLowerCase();
      if (cmd === 'slowlog' || cmd === 'config' || cmd === 'info') continue;
      if (cmd.startsWith('eval')) scriptUs += Number(e[2]);
      if (Number(e[2]) > longest.us) longest = { us: Number(e[2]), cmd: String(e[3][0]) };
    }
    await redis.admin.config('SET', 'slowlog-log-slower-than', '10000');
    return {
      size,
      jobs,
      jobsPerSec: round(((jobs - first.n) / (last.t - first.t)) * 1000),
      inPerJob: round(bytesIn / jobs),
      outPerJob: round(bytesOut / jobs),
      redisCpuUsPerJob: round(((cpu1 - cpu0) / jobs) * 1e6),
      workerCpuUsPerJob: round((workerCpu / jobs) * 1e6),
      scriptUsPerJob: round(scriptUs / jobs),
      longestUs: longest.us,
      longestCmd: longest.cmd,
    };
  } finally {
    await w.stop();
  }
}

async function main() {
  const redis = await startRedis();
  process.once('SIGINT', () => {
    killTracked();
    redis.stop().finally(() => process.exit(130));
  });
  const rows = [];
  try {
    for (const size of sizes) {
      const bySys = {};
      for (let rep = 0; rep < reps; rep++) {
        for (const sys of systems) {
          log(`${sys.name} payload ${size} B rep ${rep + 1}/${reps}`);
          (bySys[sys.key] ??= []).push(await run(sys, redis, size));
        }
      }
      for (const [key, runs] of Object.entries(bySys)) {
        const mid = runs.find((r) => r.jobsPerSec === median(runs.map((x) => x.jobsPerSec))) ?? runs[0];
        rows.push({ system: key, ...mid, runs: runs.map((r) => r.jobsPerSec) });
      }
    }
  } finally {
    await redis.stop();
    cleanupVerk();
  }
  console.log(`\npayload throughput, concurrency ${concurrency}, ${reps} rep(s), median; bytes = Redis net in/out per job (all clients)\n`);
  console.log(
    '| payload | system | jobs/s | ratio to bee | in B/job | in ÷ payload | out B/job | Redis CPU µs/job | scripts µs/job | worker CPU µs/job | longest command |',
  );
  console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    const beeRate = rows.find((x) => x.system === 'bee' && x.size === r.size)?.jobsPerSec;
    console.log(
      `| ${r.size} | ${r.system} | ${r.jobsPerSec} | ${beeRate ? round(r.jobsPerSec / beeRate, 2) : ''} | ${r.inPerJob} | ${round(r.inPerJob / r.size, 2)} | ${r.outPerJob} | ${r.redisCpuUsPerJob} | ${r.scriptUsPerJob} | ${r.workerCpuUsPerJob} | ${r.longestUs} µs ${r.longestCmd} |`,
    );
  }
  console.log(`\n${JSON.stringify(rows)}`);
}

main().catch((err) => {
  console.error(err);
  killTracked();
  process.exit(1);
});
