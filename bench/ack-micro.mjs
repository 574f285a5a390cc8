// `npm run build && node bench/ack-micro.mjs [--concurrency=5000] [--jobs=40000] [--payload=2000]
// [--jitter-ms=200]`: the longest hot-path script at high concurrency (issue 12). Runs the built
// `verk work` (one process) on a private redis-server (stopped by PID at the end) with a handler
// that waits a random 0..jitter ms, so jobs finish out of fetch order, and reports from SLOWLOG
// (threshold 1 ms for the run, so the log's own cost stays off the fast calls) every slow script call
// by script: calls over 1 ms and the longest, plus INFO commandstats' mean per EVALSHA and the
// longest command of any kind, Redis net bytes per job and jobs/s. Not a timed assertion: a
// measurement to compare before/after on one machine.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Client } from '../dist/index.js';
import { scriptSources } from '../dist/redis/script-source.js';
import { startRedis } from './lib/redis-server.mjs';
import { stopChild, track, killTracked } from './lib/proc.mjs';
import { round, sleep } from './lib/stats.mjs';

const argv = process.argv.slice(2);
const opt = (name, d) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
const C = opt('concurrency', 5000);
const JOBS = opt('jobs', 40_000);
const PAYLOAD = opt('payload', 2000);
const JITTER = opt('jitter-ms', 200);
const ROOT = fileURLToPath(new URL('../', import.meta.url));

const names = new Map(scriptSources().map((s) => [createHash('sha1').update(s.lua).digest('hex'), s.name]));

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-ack-micro-'));
  fs.mkdirSync(path.join(dir, 'jobs'));
  fs.writeFileSync(
    path.join(dir, 'jobs', 'Jitter.mjs'),
    `export default function perform() {\n  return new Promise((r) => setTimeout(r, Math.random() * ${JITTER}));\n}\n`,
  );
  const redis = await startRedis();
  let proc;
  try {
    const client = new Client({ redisUrl: redis.url });
    const blob = 'x'.repeat(Math.max(0, PAYLOAD - 100));
    for (let i = 0; i < JOBS; i += 1000)
      await client.enqueueBulk(Array.from({ length: Math.min(1000, JOBS - i) }, () => ({ class: 'Jitter', queue: 'q', args: [blob] })));
    await client.close();
    const a = redis.admin;
    await a.config('SET', 'slowlog-log-slower-than', '1000');
    await a.config('SET', 'slowlog-max-len', '2000000');
    await a.slowlog('RESET');
    await a.config('RESETSTAT');
    const t0 = Date.now();
    proc = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bin/verk.js'),
        'work',
        '--queues',
        `q:${C}`,
        '--processes',
        '1',
        '--handlers',
        path.join(dir, 'jobs'),
        '--redis-url',
        redis.url,
        '--log-level',
        'warn',
      ],
      {
        cwd: dir,
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    track(proc);
    const poll = new Redis({ port: redis.port });
    let n = 0;
    for (let last = Date.now(); n < JOBS; await sleep(100)) {
      const m = Number((await poll.get('stat:processed')) ?? 0);
      if (m > n) last = Date.now();
      n = m;
      if (Date.now() - last > 60_000) throw new Error(`stalled at ${n}/${JOBS}`);
    }
    const secs = (Date.now() - t0) / 1000;
    poll.disconnect();
    const stats = await a.info('stats');
    const cmdstats = await a.info('commandstats');
    const evalsha = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(cmdstats);
    const num = (f) => Number(new RegExp(`${f}:(\\d+)`).exec(stats)?.[1]);
    const slow = await a.slowlog('GET', 2_000_000);
    const per = new Map();
    let longest = { us: 0, cmd: '' };
    for (const e of slow) {
      const cmd = String(e[3][0]).toLowerCase();
      if (['slowlog', 'config', 'info', 'get'].includes(cmd)) continue;
      const us = Number(e[2]);
      const name = cmd === 'evalsha' ? (names.get(String(e[3][1])) ?? 'evalsha?') : null;
      if (us > longest.us) longest = { us, cmd: name ?? cmd };
      if (!name) continue;
      const s = per.get(name) ?? { over1ms: 0, max: 0 };
      s.max = Math.max(s.max, us);
      s.over1ms++;
      per.set(name, s);
    }
    console.log(`\nconcurrency ${C}, ${JOBS} jobs of ${PAYLOAD} B, handler waits 0..${JITTER} ms: ${round(JOBS / secs)} jobs/s (incl. start-up)`);
    console.log(
      `Redis net in ${round(num('total_net_input_bytes') / JOBS)} B/job, out ${round(num('total_net_output_bytes') / JOBS)} B/job; longest command ${longest.us} µs (${longest.cmd})`,
    );
    console.log(`EVALSHA (all scripts): ${evalsha?.[1]} calls, mean ${round(Number(evalsha?.[2]) / Number(evalsha?.[1]))} µs`);
    const inner = ['lrem', 'lset', 'lindex', 'lpos', 'rpop', 'lpush'].map((c) => {
      const m = new RegExp(`cmdstat_${c}:calls=(\\d+),usec=(\\d+)`).exec(cmdstats);
      return m ? `${c} ${m[1]} calls ${round(Number(m[2]) / Number(m[1]), 1)} µs` : `${c} 0`;
    });
    console.log(`inside scripts: ${inner.join(', ')}`);
    console.log('| script | calls > 1 ms | longest µs |');
    console.log('| --- | ---: | ---: |');
    for (const [name, s] of [...per].sort((x, y) => y[1].max - x[1].max)) console.log(`| ${name} | ${s.over1ms} | ${s.max} |`);
  } finally {
    if (proc) await stopChild(proc, { graceMs: 15_000 });
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  killTracked();
  process.exit(1);
});
