// verk adapter: producer = the library Client from dist/ (enqueue / enqueueBulk); worker = the
// real built CLI, `node bin/verk.js work`, as a child process with a no-op handler written to a
// temp handlers dir. Ready = one "node started" log line per worker process; progress = GET
// stat:processed (those polls are subtracted from the commands-per-job figures).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { Client } from '../../dist/index.js';
import { childrenOf, stopChild, track } from '../lib/proc.mjs';

const QUEUE = 'bench';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin/verk.js');
const PROBE = pathToFileURL(path.join(ROOT, 'bench/workers/probe.mjs')).href;

let workDir;
/** A temp dir (also the CLI's cwd, so no project config is picked up) with jobs/Bench.mjs. */
export function handlersDir() {
  if (workDir) return workDir;
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-bench-'));
  fs.mkdirSync(path.join(workDir, 'jobs'));
  fs.writeFileSync(
    path.join(workDir, 'jobs', 'Bench.mjs'),
    `// No-op bench job (latency jobs report their start time).\nimport { handle } from ${JSON.stringify(PROBE)};\n` +
      'export default async function perform(args) {\n  return handle(args[0]);\n}\n',
  );
  return workDir;
}

export function cleanupVerk() {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
}

const job = (data) => ({ class: 'Bench', queue: QUEUE, args: data === undefined ? [] : [data] });

export default {
  name: 'verk',
  key: 'verk',
  producer(redis) {
    const client = new Client({ redisUrl: redis.url });
    return {
      enqueue: (data) => client.enqueue(job(data)),
      // A unique job (docs/unique-jobs.md), each with a key of its own: the cost of taking the lock.
      enqueueUnique: (key) => client.enqueue({ ...job(undefined), unique: { key: () => key } }),
      bulk: (datas) => client.enqueueBulk(datas.map(job)),
      close: () => client.close(),
    };
  },
  startWorker(redis, { concurrency, processes = 1, probePort, execArgv = [], workArgs = [] }) {
    const dir = handlersDir();
    const proc = spawn(
      process.execPath,
      [
        ...execArgv,
        BIN,
        'work',
        '--queues',
        `${QUEUE}:${concurrency}`,
        '--processes',
        String(processes),
        '--handlers',
        path.join(dir, 'jobs'),
        '--redis-url',
        redis.url,
        '--log-format',
        'json',
        '--log-level',
        'info',
        ...workArgs,
      ],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1', BENCH_PROBE_PORT: String(probePort ?? 0) },
      },
    );
    // Made on the first poll, so an idle worker (the fleet suite) has no extra connection.
    let poll;
    let polls = 0;
    let started = 0;
    const seen = new Set();
    track(proc);
    const tail = [];
    const ready = new Promise((resolve, reject) => {
      // The logger writes JSON lines (to stderr); warnings and errors are echoed to the bench's stderr.
      const scan = (stream) => {
        let buf = '';
        stream.on('data', (chunk) => {
          buf += chunk;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            tail.push(line);
            if (tail.length > 20) tail.shift();
            if (line.includes('"node started"') && ++started === processes) resolve();
            if (/"level":"(warn|error)"/.test(line)) process.stderr.write(`[verk] ${line}\n`);
          }
        });
      };
      scan(proc.stdout);
      scan(proc.stderr);
      proc.once('exit', (code) => reject(new Error(`verk work exited with ${code} before it was ready:\n${tail.join('\n')}`)));
      setTimeout(() => reject(new Error(`verk work not ready after 30s:\n${tail.join('\n')}`)), 30_000).unref();
    });
    ready.catch(() => undefined);
    const workerPids = () => {
      const pids = childrenOf(proc.pid);
      pids.forEach((p) => seen.add(p));
      return pids;
    };
    return {
      ready,
      completed: async () => {
        polls++;
        poll ??= new Redis({ host: redis.host, port: redis.port, maxRetriesPerRequest: null });
        return Number((await poll.get('stat:processed')) ?? 0);
      },
      ownCommands: () => ({ get: polls }),
      workerPids,
      extraPids: () => [proc.pid],
      stop: async () => {
        workerPids();
        poll?.disconnect();
        await stopChild(proc, { graceMs: 15_000, alsoKill: [...seen], needle: 'worker-entry' });
      },
    };
  },
};
