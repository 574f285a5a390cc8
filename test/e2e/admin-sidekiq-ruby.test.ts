// Optional cross-check with a real Sidekiq 6 (Debian's `ruby ruby-sidekiq`): Sidekiq::API reads
// the retry entries `verk work` writes (error?, numeric failed_at, backtrace array, args), lists
// our supervisor in ProcessSet/Workers/Stats while a job runs (the running job's args, the tag
// and labels naming its identity and nodes), reads the daily counters through
// Sidekiq::Stats::History (the History graph), and Process#quiet! quiets it;
// a real `sidekiq` server runs a job that `verk enqueue` wrote, with the same arguments.
// Skips cleanly when Ruby or the gem is absent; the same shapes are also checked without Ruby in
// admin-fixtures.test.ts and admin-control.test.ts.
import { execFileSync, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startWorker, signalGroup, verk } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { handlerDir, parseJson, REDIS_PRELUDE } from '../helpers/admin-kit.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/sidekiq-api-read.rb', import.meta.url));
const RUBY_WORKER = fileURLToPath(new URL('../fixtures/sidekiq-worker.rb', import.meta.url));
const FIXTURE = fs.readFileSync(new URL('../fixtures/payloads/sidekiq-client-push.json', import.meta.url), 'utf8').trim();

function hasSidekiq(): boolean {
  try {
    execFileSync('ruby', ['-e', 'require "sidekiq/api"'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const available = hasSidekiq();
let server: RedisServer;
let dir: string;

beforeAll(async () => {
  if (!available) return;
  server = await startRedis();
  dir = handlerDir({
    MyJob: `export function perform(args) { throw new RangeError('fixture failure ' + args.length); }\n`,
    Slow: `${REDIS_PRELUDE}export async function perform(args, ctx) { await redis.set('test:slow', ctx.jid); await new Promise((r) => setTimeout(r, 8000)); }\n`,
  });
});
afterAll(async () => {
  if (!available) return;
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function sidekiqRead(mode = ''): Promise<Record<string, any>> {
  const { stdout } = await promisify(execFile)('ruby', [SCRIPT, mode], { env: { ...process.env, REDIS_URL: server.url }, timeout: 30_000 });
  return JSON.parse(stdout);
}

describe.skipIf(!available)('Sidekiq 6 API reads what verk work writes', () => {
  it('retry entries, process registry, workers, stats; Process#quiet! reaches our supervisor', async () => {
    const r = server.client;
    await r.multi().sadd('queues', 'default').lpush('queue:default', FIXTURE).exec();
    const worker = startWorker(
      [
        '--redis-url',
        server.url,
        '--handlers',
        dir,
        '--queues',
        'default:5',
        '--processes',
        '1',
        '--heartbeat-interval',
        '100ms',
        '--node-ttl',
        '600ms',
        '--shutdown-timeout',
        '1s',
        '--log-level',
        'error',
      ],
      { cwd: dir, env: { TEST_REDIS_URL: server.url } },
    );
    try {
      await waitFor(async () => (await r.zcard('retry')) === 1, { timeoutMs: 20_000, what: 'the fixture in retry' });
      const now = Date.now() / 1000;
      await r.lpush(
        'queue:default',
        '{"retry":true,"queue":"default","class":"Slow","args":[42,"x",{"big":12345678901234567890}],"jid":"5105105105105105105105aa","created_at":1,"enqueued_at":1}',
      );
      await waitFor(async () => (await r.get('test:slow')) !== null, { timeoutMs: 10_000, what: 'slow job running' });
      await new Promise((res) => setTimeout(res, 1500)); // a few beats with the job running

      const out = await sidekiqRead('quiet');
      expect(out.retries).toHaveLength(1);
      const e = out.retries[0];
      expect(e).toMatchObject({
        jid: 'c9f1d4517ea30655e74cf421',
        klass: 'MyJob',
        args: [1, 'two', { x: 3 }],
        queue: 'default',
        error: true,
        error_class: 'RangeError',
        retry_count: 0,
      });
      expect(e.failed_at).toBeGreaterThan(now - 60);
      expect(e.at).toBeGreaterThan(e.failed_at + 14);
      expect(e.created_at).toBeCloseTo(1795388709.9226692, 3);
      expect(Array.isArray(e.backtrace) && e.backtrace.every((l: unknown) => typeof l === 'string')).toBe(true);

      expect(out.processes).toHaveLength(1);
      const p = out.processes[0];
      expect(p).toMatchObject({ busy: 1, quiet: 'false', queues: ['default'], concurrency: 5, pid: worker.pid, stopping: false, tag: p.identity });
      const nodeIds = parseJson<{ nodes: { id: string }[] }>(await verk(['nodes', '--json', '--redis-url', server.url])).nodes.map((n) => n.id);
      expect(p.labels).toEqual(['verk', ...nodeIds]);
      expect(out.workers).toEqual([
        {
          process: p.identity,
          thread: '5105105105105105105105aa',
          queue: 'default',
          class: 'Slow',
          jid: '5105105105105105105105aa',
          args_json: '[42,"x",{"big":12345678901234567890}]', // as Ruby read it: the big integer exact
          run_at: expect.any(Number),
        },
      ]);
      // The History graph: one execution (the fixture's failure) today, through Sidekiq::Stats::History.
      // (Summed over today and yesterday, UTC: the run may cross midnight.)
      const days = [Date.now(), Date.now() - 86_400_000].map((ms) => new Date(ms).toISOString().slice(0, 10));
      const sum = (h: Record<string, number>) => Object.values(h).reduce((t, v) => t + v, 0);
      expect(Object.keys(out.history.processed)).toEqual(days);
      expect(sum(out.history.processed)).toBe(1);
      expect(sum(out.history.failed)).toBe(1);
      expect(out.stats).toMatchObject({ processes_size: 1, workers_size: 1, retry_size: 1, failed: 1 });
      expect(out.queues).toEqual([{ name: 'default', size: 0 }]);

      // Sidekiq's own quiet! went through <identity>-signals.
      await waitFor(async () => (await r.hget(p.identity, 'quiet')) === 'true', { timeoutMs: 5000, what: 'quiet after Process#quiet!' });
      expect((await sidekiqRead()).processes[0].quiet).toBe('true');
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
      await worker;
    }
    expect(await r.smembers('processes')).toEqual([]);
  });

  it('a real sidekiq server runs a job written by verk enqueue, with the same arguments', async () => {
    const r = server.client;
    await r.flushdb();
    const enq = await verk(['enqueue', 'MyJob', '1', '"two"', '{"x":3,"big":12345678901}', '--json', '--redis-url', server.url], { cwd: dir });
    expect(enq.exitCode).toBe(0);
    const { jid } = JSON.parse(enq.stdout);
    const sk = spawn('sidekiq', ['-r', RUBY_WORKER, '-q', 'default', '-c', '2', '-t', '1'], { env: { ...process.env, REDIS_URL: server.url }, stdio: 'ignore' });
    const exited = new Promise((res) => sk.once('exit', res));
    try {
      const run = await waitFor(async () => r.lindex('test:ruby-runs', 0), { timeoutMs: 30_000, what: 'sidekiq ran the job' });
      expect(JSON.parse(run)).toEqual({ jid, args: [1, 'two', { x: 3, big: 12345678901 }] });
      expect(await r.llen('queue:default')).toBe(0);
    } finally {
      sk.kill('SIGTERM');
      await exited;
    }
  });
});
