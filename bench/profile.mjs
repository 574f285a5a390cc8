// `node bench/profile.mjs [--jobs=50000] [--concurrency=50] [--processes=1] [--size=0]` (after `npm run build`):
// CPU profile of verk's worker process under load. Starts a private redis-server, pre-enqueues
// no-op jobs, runs the built CLI with `node --cpu-prof` (the supervisor forks its workers with the
// same flags), drains the queue, stops gracefully so the profiles are written, then prints where
// the worker's CPU time went: idle share, time by area (ioredis, verk core, GC, …) and the top
// functions by self time. The .cpuprofile files stay in the printed directory (Chrome DevTools).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRedis } from './lib/redis-server.mjs';
import { nowMs, round, sleep } from './lib/stats.mjs';
import verk, { cleanupVerk } from './systems/verk.mjs';

const opt = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const jobs = opt('jobs', 50_000);
const concurrency = opt('concurrency', 50);
const processes = opt('processes', 1);
/** Payload size in bytes (0: an empty job); as bench/payload-parity.mjs builds it. */
const size = opt('size', 0);
const data = size > 0 ? { blob: 'x'.repeat(Math.max(0, size - 60)) } : undefined;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-prof-'));
const redis = await startRedis();
let workerPids = [];
try {
  const producer = verk.producer(redis);
  for (let i = 0; i < jobs; i += 1000) await producer.bulk(new Array(Math.min(1000, jobs - i)).fill(data));
  await producer.close();
  await redis.admin.config('RESETSTAT');
  const w = verk.startWorker(redis, { concurrency, processes, execArgv: ['--cpu-prof', '--cpu-prof-dir', dir] });
  let first;
  let n = 0;
  while (n < jobs) {
    n = await w.completed();
    if (!first && n > 0) first = { t: nowMs(), n };
    workerPids = [...new Set([...workerPids, ...w.workerPids()])];
    await sleep(20);
  }
  const rate = ((jobs - first.n) / (nowMs() - first.t)) * 1000;
  console.log(`${jobs} jobs, concurrency ${concurrency}, ${processes} process(es): ${round(rate)} jobs/s (with profiling overhead)`);
  await w.stop();
} finally {
  await redis.stop();
  cleanupVerk();
}

for (const pid of workerPids) {
  const file = fs.readdirSync(dir).find((f) => f.includes(`.${pid}.`));
  if (!file) {
    console.log(`no profile for worker ${pid} (did it exit gracefully?)`);
    continue;
  }
  summarize(path.join(dir, file));
}
console.log(`\nprofiles: ${dir}`);

function summarize(file) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const areas = new Map();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const key = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const area = areaOf(functionName, url);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const idle = areas.get('(idle)') ?? 0;
  const busy = total - idle;
  const pct = (us, of) => `${((100 * us) / of).toFixed(1)}%`;
  console.log(`\nworker ${path.basename(file)}: ${round(total / 1000)} ms profiled, idle ${pct(idle, total)}, busy ${round(busy / jobs, 1)} µs/job`);
  console.log('CPU time by area (share of non-idle time):');
  for (const [a, us] of [...areas].filter(([a]) => a !== '(idle)').sort((x, y) => y[1] - x[1])) console.log(`  ${pct(us, busy).padStart(6)}  ${a}`);
  console.log('top functions by self time (share of non-idle time):');
  for (const [k, us] of [...fns]
    .filter(([k]) => !k.startsWith('(idle)'))
    .sort((x, y) => y[1] - x[1])
    .slice(0, 30)) {
    console.log(
      `  ${pct(us, busy).padStart(6)}  ${round(us / jobs, 2)
        .toString()
        .padStart(6)} µs/job  ${k}`,
    );
  }
}

function shortUrl(url) {
  if (!url) return '';
  const i = url.indexOf('node_modules/');
  if (i >= 0) return url.slice(i + 'node_modules/'.length);
  const d = url.indexOf('/dist/');
  if (d >= 0) return url.slice(d + 1);
  return url.replace(/^file:\/\//, '');
}

function areaOf(fn, url) {
  if (fn === '(idle)' || fn === '(program)' || fn === '(garbage collector)') return fn;
  if (!url) return '(native / builtins)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  const d = /\/dist\/([^/]+)\//.exec(url);
  if (d) return `verk dist/${d[1]}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? url.slice(5).split('/').slice(0, 2).join('/') : url.slice(5)}`;
  return shortUrl(url);
}
