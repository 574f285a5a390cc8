// `npm run build && node bench/cluster-scale.mjs [--shards=1,2,3] [--queues=6] [--jobs=12000]
// [--concurrency=10] [--size=100] [--reps=1]`: throughput across many queues on the Redis Cluster
// layout (docs/redis-cluster.md) as the cluster grows from 1 to 3 masters, in one run. For each
// size: a private cluster (bench/lib/redis-cluster.mjs), `--queues` queues spread evenly over the
// masters, the jobs pre-enqueued evenly through the library Client (redis+cluster:// URL), then one
// `verk work --queues q1:C,…,qN:C --processes 1` (one supervisor and one worker process per
// queue) drains them; rate from the first to the last completion. Per row: jobs/s, the ratio to
// 1 master, each master's Redis CPU per second of the run and its share of the commands, and the
// rate at which the busiest master would fill a core (jobs/s ÷ its share of a core).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../dist/index.js';
import { slotOf } from '../dist/redis/slot-connector.js';
import { startCluster } from './lib/redis-cluster.mjs';
import { handlersDir, cleanupVerk } from './systems/verk.mjs';
import { childrenOf, stopChild, track } from './lib/proc.mjs';
import { median, nowMs, round, sleep } from './lib/stats.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const shardCounts = opt('shards', '1,2,3').split(',').map(Number);
const queueCount = Number(opt('queues', 6));
const jobs = Number(opt('jobs', 12_000));
const concurrency = Number(opt('concurrency', 10));
const size = Number(opt('size', 100));
const reps = Number(opt('reps', 1));
const BIN = fileURLToPath(new URL('../bin/verk.js', import.meta.url));
const log = (msg) => process.stderr.write(`[cluster] ${msg}\n`);

/** Queue names, queue i on master i % masters (by the slot of its hash tag). */
function queuesFor(nodes) {
  const out = [];
  for (let k = 0; out.length < queueCount && k < 1_000_000; k++) {
    const name = `bench-${k}`;
    const slot = slotOf(name);
    const want = nodes[out.length % nodes.length];
    if (slot >= want.slots[0] && slot <= want.slots[1]) out.push(name);
  }
  return out;
}

const cpuOf = async (admin) => {
  const info = await admin.info('cpu');
  return Number(/used_cpu_sys:([\d.]+)/.exec(info)[1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)[1]);
};
const callsOf = async (admin) => {
  const info = await admin.info('commandstats');
  return [...info.matchAll(/calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
};

async function run(masters) {
  const cluster = await startCluster(masters);
  try {
    const queues = queuesFor(cluster.nodes);
    const masterOf = (q) => cluster.nodes.find((n) => slotOf(q) >= n.slots[0] && slotOf(q) <= n.slots[1]);
    const client = new Client({ redisUrl: cluster.url });
    const blob = 'x'.repeat(Math.max(0, size - 60));
    for (let i = 0; i < jobs; i += 1000) {
      await client.enqueueBulk(
        Array.from({ length: Math.min(1000, jobs - i) }, (_, j) => ({ class: 'Bench', queue: queues[(i + j) % queues.length], args: [{ blob }] })),
      );
    }
    await client.close();
    for (const n of cluster.nodes) await n.admin.config('RESETSTAT');
    const cpu0 = await Promise.all(cluster.nodes.map((n) => cpuOf(n.admin)));
    const dir = handlersDir();
    const proc = spawn(
      process.execPath,
      [
        BIN,
        'work',
        '--queues',
        queues.map((q) => `${q}:${concurrency}`).join(','),
        '--processes',
        '1',
        '--handlers',
        path.join(dir, 'jobs'),
        '--redis-url',
        cluster.url,
        '--log-format',
        'json',
        '--log-level',
        'warn',
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NO_COLOR: '1' } },
    );
    track(proc);
    const probes = queues.map((q) => ({ q, admin: masterOf(q).admin }));
    const done = async () => (await Promise.all(probes.map(({ q, admin }) => admin.get(`{${q}}:stat:processed`)))).reduce((n, v) => n + Number(v ?? 0), 0);
    let first;
    let last;
    const deadline = nowMs() + 300_000;
    for (;;) {
      const n = await done();
      if (!first && n > 0) first = { t: nowMs(), n };
      if (n >= jobs) {
        last = { t: nowMs(), n };
        break;
      }
      if (nowMs() > deadline) throw new Error(`only ${n} of ${jobs} jobs done within 300 s`);
      await sleep(20);
    }
    const seconds = (last.t - first.t) / 1000;
    const cpu = (await Promise.all(cluster.nodes.map((n) => cpuOf(n.admin)))).map((c, i) => c - cpu0[i]);
    const calls = await Promise.all(cluster.nodes.map((n) => callsOf(n.admin)));
    await stopChild(proc, { graceMs: 20_000, alsoKill: childrenOf(proc.pid) });
    const total = calls.reduce((a, b) => a + b, 0);
    return {
      masters,
      jobsPerSec: round((last.n - first.n) / seconds),
      cpuPerMaster: cpu.map((c) => round((100 * c) / seconds)),
      commandShare: calls.map((c) => round((100 * c) / total)),
    };
  } finally {
    await cluster.stop();
  }
}

const rows = [];
for (const m of shardCounts) {
  const runs = [];
  for (let r = 0; r < reps; r++) {
    log(`${m} master(s), rep ${r + 1}/${reps}`);
    runs.push(await run(m));
  }
  const rate = median(runs.map((x) => x.jobsPerSec));
  rows.push({ ...runs.find((x) => x.jobsPerSec === rate), jobsPerSec: rate, runs: runs.map((x) => x.jobsPerSec) });
}
cleanupVerk();
const base = rows.find((r) => r.masters === shardCounts[0])?.jobsPerSec ?? 1;
console.log(
  `\ncluster layout: ${queueCount} queues spread over the masters, ${jobs} jobs of ${size} B, concurrency ${concurrency} per queue, one verk work (${queueCount} supervisors + ${queueCount} worker processes)\n`,
);
// What Redis could take before its busiest master fills a core (an extrapolation: on a box whose
// workers saturate the CPU first, jobs/s itself cannot show the shards' headroom).
const capacity = (r) => round((r.jobsPerSec * 100) / Math.max(...r.cpuPerMaster));
const baseCapacity = capacity(rows[0]);
console.log(
  '| masters | jobs/s | ratio to 1 master | Redis CPU per master (% of a core) | share of commands per master | jobs/s at which the busiest master fills a core | ratio |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.masters} | ${r.jobsPerSec} | ${(r.jobsPerSec / base).toFixed(2)}× | ${r.cpuPerMaster.join(' / ')} | ${r.commandShare.map((s) => `${s}%`).join(' / ')} | ${capacity(r)} | ${(capacity(r) / baseCapacity).toFixed(2)}× |`,
  );
console.log(`\n${JSON.stringify(rows)}`);
process.exit(0);
