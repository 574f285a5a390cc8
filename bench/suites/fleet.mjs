// Fleet suite: the Redis load of an idle fleet. For each system and fleet size N it starts N idle
// single-process workers on an empty queue, waits a warm-up, then measures over a window: Redis
// commands/s (INFO commandstats delta; commands run inside Lua scripts included, the bench's
// own INFO calls left out), Redis CPU (used_cpu_sys + used_cpu_user delta ÷ window, as a
// fraction of one core), the fleet's own CPU and memory. Fleets:
//   verk-real: N real `node bin/verk.js work --queues bench:1 --processes 1` processes (each its
//              own supervisor + worker process, default intervals), started a few at a time;
//   verk-sim:  N simulated pods in one child process (bench/suites/fleet-sim.mjs: the real
//              Supervisor and WorkerNode classes, each pod with its own connections);
//   bullmq / bee: N idle BullMQ Workers / Bee-Queue workers in one child process.
// All of them run bench/workers/fleet-host.mjs except verk-real. A row is "saturated" when Redis
// or the client ran near a full core (or the host stopped starting workers): its figure is then
// what the fleet got served, a lower bound of what it asks for.
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import verk, { handlersDir } from '../systems/verk.mjs';
import { cpuSeconds, rssMiB, stopChild, track } from '../lib/proc.mjs';
import { rates, snapshot } from '../lib/redis-info.mjs';
import { round, sleep } from '../lib/stats.mjs';

const HOST = fileURLToPath(new URL('../workers/fleet-host.mjs', import.meta.url));
const REAL_BATCH = 5;
const HOST_BATCH = 50;
const START_TIMEOUT_MS = 15 * 60_000;
const SATURATED = 0.9;

/**
 * o: { sizes, realSizes, warmupMs, windowMs, heapLimitMiB, only: Set of system keys }.
 * Returns { '<fleet>:<N>': row } (rows that failed hold { error }).
 */
export async function fleetSuite(redis, o, log, attempt) {
  const rows = {};
  const saturatedAt = {};
  const run = async (fleet, n, start) => {
    // A client that could not even start the smaller fleet cannot start this one: the row would repeat it.
    if (saturatedAt[fleet] !== undefined) {
      rows[`${fleet}:${n}`] = { skipped: `not run: the client already saturated at ${saturatedAt[fleet]} workers` };
      return;
    }
    log(`fleet: ${fleet} × ${n}, warm-up ${o.warmupMs / 1000}s, window ${o.windowMs / 1000}s`);
    rows[`${fleet}:${n}`] = await attempt(`fleet ${fleet} ${n}`, () => measure(redis, n, start, o));
    const r = rows[`${fleet}:${n}`];
    if (r.error) return;
    log(`fleet: ${fleet} × ${r.nodes}: ${r.commandsPerSec} cmds/s, Redis CPU ${round(r.redisCpu * 100, 1)}%${r.saturated ? ` (saturated: ${r.saturated})` : ''}`);
    if (r.nodes < n) saturatedAt[fleet] = r.nodes;
  };
  if (o.only.has('verk')) {
    for (const n of o.realSizes) await run('verk-real', n, () => realFleet(redis, n));
    // The simulation also runs at the real fleets' sizes: that is its check against them.
    const simSizes = [...new Set([...o.sizes, ...o.realSizes])].sort((a, b) => a - b);
    for (const n of simSizes) await run('verk-sim', n, () => hostFleet(redis, 'verk-sim', n, o));
  }
  for (const key of ['bullmq', 'bee']) {
    if (o.only.has(key)) for (const n of o.sizes) await run(key, n, () => hostFleet(redis, key, n, o));
  }
  return rows;
}

async function measure(redis, n, start, o) {
  await redis.admin.flushall();
  const t0 = performance.now();
  const fleet = await start();
  const startMs = performance.now() - t0;
  try {
    await sleep(o.warmupMs);
    await fleet.sample(); // resets the host's event-loop delay figure
    const c0 = fleet.cpuSeconds();
    const a = await snapshot(redis.admin);
    await sleep(o.windowMs);
    const b = await snapshot(redis.admin);
    const c1 = fleet.cpuSeconds();
    const r = rates(a, b);
    const info = await fleet.sample();
    const clientCpu = (c1 - c0) / r.seconds;
    const row = {
      requested: n,
      nodes: fleet.started,
      startSeconds: round(startMs / 1000, 1),
      ...r,
      commandsPerSecPerNode: round(r.commandsPerSec / fleet.started, 2),
      clientCpu: round(clientCpu, 3),
      clientProcesses: fleet.processes,
      ...info,
    };
    row.saturated = saturation(row, fleet);
    return row;
  } finally {
    await fleet.stop();
  }
}

function saturation(row, fleet) {
  const why = [];
  if (fleet.stoppedEarly) why.push(fleet.stoppedEarly);
  if (row.nodes < row.requested) why.push(`${row.nodes} of ${row.requested} started`);
  if (row.redisCpu >= SATURATED) why.push(`Redis at ${Math.round(row.redisCpu * 100)}% of a core`);
  if (fleet.processes === 1 && row.clientCpu >= SATURATED) why.push(`client process at ${Math.round(row.clientCpu * 100)}% of a core`);
  if (row.redisCpu + row.clientCpu >= SATURATED * os.cpus().length) why.push('machine CPU full');
  if (row.lagP99Ms > 1000) why.push(`client event loop p99 delay ${Math.round(row.lagP99Ms)}ms`);
  return why.length ? why.join('; ') : undefined;
}

/** N real `verk work` processes (supervisor + one worker process each), started REAL_BATCH at a time. */
async function realFleet(redis, n) {
  const pods = [];
  const stop = () => Promise.all(pods.map((p) => p.stop()));
  try {
    while (pods.length < n) {
      const batch = Array.from({ length: Math.min(REAL_BATCH, n - pods.length) }, () => verk.startWorker(redis, { concurrency: 1, processes: 1 }));
      pods.push(...batch);
      await Promise.all(batch.map((w) => w.ready));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const pids = () => pods.flatMap((p) => [...p.extraPids(), ...p.workerPids()]);
  const sum = (xs) => xs.reduce((s, x) => s + (Number.isNaN(x) ? 0 : x), 0);
  return {
    started: n,
    processes: 2 * n,
    cpuSeconds: () => sum(pids().map(cpuSeconds)),
    sample: async () => ({ clientRssMiB: round(sum(pids().map(rssMiB)), 1) }),
    stop,
  };
}

/** N idle workers of `system` in one fleet-host child process. */
async function hostFleet(redis, system, n, o) {
  const dir = handlersDir();
  const proc = fork(HOST, [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: [`--max-old-space-size=${o.heapLimitMiB + 2048}`],
    env: {
      ...process.env,
      FLEET_SYSTEM: system,
      BENCH_REDIS_HOST: redis.host,
      BENCH_REDIS_PORT: String(redis.port),
      FLEET_HANDLERS: path.join(dir, 'jobs'),
      FLEET_CWD: dir,
    },
  });
  track(proc);
  const waiting = new Map();
  let exitCode;
  proc.on('message', (msg) => {
    const w = waiting.get(msg?.type);
    if (w) {
      waiting.delete(msg.type);
      w.resolve(msg);
    } else if (msg?.type === 'failed') for (const x of waiting.values()) x.reject(new Error(`fleet host (${system}): ${msg.error}`));
  });
  proc.once('exit', (code, signal) => {
    exitCode = code ?? signal;
    for (const x of waiting.values()) x.reject(new Error(`fleet host (${system}) exited (${exitCode})`));
  });
  const expect = (type, timeoutMs) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fleet host (${system}): no '${type}' within ${timeoutMs}ms`)), timeoutMs);
      const done = (f) => (x) => {
        clearTimeout(timer);
        f(x);
      };
      waiting.set(type, { resolve: done(resolve), reject: done(reject) });
    });
  const stop = async () => {
    if (exitCode === undefined) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.send({ type: 'stop' });
      await Promise.race([exited, sleep(70_000)]);
    }
    await stopChild(proc, { graceMs: 1000 });
  };
  let ready;
  try {
    await expect('hello', 30_000);
    const r = expect('ready', START_TIMEOUT_MS);
    proc.send({ type: 'start', n, batch: HOST_BATCH, heapLimitMiB: o.heapLimitMiB });
    ready = await r;
  } catch (err) {
    await stop();
    throw err;
  }
  const sample = async () => {
    const p = expect('stats', 30_000);
    proc.send({ type: 'stats' });
    const s = await p;
    return { clientRssMiB: round(s.rssMiB, 1), clientHeapMiB: round(s.heapMiB, 1), lagP99Ms: round(s.lagP99Ms, 1), logs: s.logs };
  };
  return { started: ready.started, stoppedEarly: ready.stoppedEarly, processes: 1, cpuSeconds: () => cpuSeconds(proc.pid), sample, stop };
}

/** Least-squares fit of commands/s = a·N + b·N² over the rows that were not saturated (≥ 2 rows). */
export function fitCost(rows) {
  const pts = rows.filter((r) => r && !r.error && !r.skipped && !r.saturated).map((r) => [r.nodes, r.commandsPerSec]);
  if (pts.length < 2) return undefined;
  // Normal equations of y = a x + b x².
  let s11 = 0;
  let s12 = 0;
  let s22 = 0;
  let t1 = 0;
  let t2 = 0;
  for (const [x, y] of pts) {
    s11 += x * x;
    s12 += x ** 3;
    s22 += x ** 4;
    t1 += x * y;
    t2 += x * x * y;
  }
  const det = s11 * s22 - s12 * s12;
  if (!det) return undefined;
  const a = (t1 * s22 - t2 * s12) / det;
  const b = (s11 * t2 - s12 * t1) / det;
  return { a: round(a, 3), b: round(b, 5), points: pts.length };
}
