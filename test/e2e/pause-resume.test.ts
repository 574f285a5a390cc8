// Cluster-wide pause/resume across two running `verk work` nodes (built CLI, real processes):
// a paused queue is not fetched from by any node (its jobs stay queued, other queues keep
// running, a job already running finishes); after `verk resume` the jobs are picked up within a
// second. Then remote control through the Sidekiq registry: `verk quiet --all` stops fetching
// everywhere (a worker process replaced meanwhile starts quiet too), `verk stop <verk node id>`
// stops exactly the supervisor that owns that node.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startWorker, signalGroup, verk } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { TEST_INTERVALS } from '../helpers/e2e.js';
import { handlerDir, REDIS_PRELUDE, rawJobs } from '../helpers/admin-kit.js';

let server: RedisServer;
let dir: string;

const RECORD = `${REDIS_PRELUDE}
export async function perform(args, ctx) {
  const start = Date.now();
  await redis.hset('test:started', ctx.jid, String(start));
  const ms = args[0] && args[0].sleepMs;
  if (ms) await new Promise((r) => setTimeout(r, ms));
  await redis.rpush('test:runs', JSON.stringify({ jid: ctx.jid, queue: ctx.queue, pid: process.pid, start, end: Date.now() }));
}
`;

beforeAll(async () => {
  server = await startRedis();
  dir = handlerDir({ Record: RECORD });
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const url = () => ['--redis-url', server.url];
const runs = async (queue?: string) =>
  (await server.client.lrange('test:runs', 0, -1))
    .map((s) => JSON.parse(s) as { jid: string; queue: string; start: number; end: number })
    .filter((x) => !queue || x.queue === queue);
const enqueue = (queue: string, n: number, args = '[]') =>
  server.client
    .multi()
    .sadd('queues', queue)
    .lpush(`queue:${queue}`, ...rawJobs('Record', queue, n, args))
    .exec();

describe('pause / resume across two nodes', () => {
  it('no fetch from a paused queue; resume picks up within blockTimeout; quiet and stop by remote signal', async () => {
    const r = server.client;
    const args = [
      '--redis-url',
      server.url,
      '--handlers',
      dir,
      '--queues',
      'default:3,other:3',
      '--processes',
      '1',
      '--heartbeat-interval',
      '100ms',
      '--node-ttl',
      '3s',
      '--reaper-interval',
      '200ms',
      '--scheduler-interval',
      '100ms',
      '--block-timeout',
      `${TEST_INTERVALS.blockMs}ms`,
      '--shutdown-timeout',
      '3s',
      '--log-level',
      process.env.PAUSE_TEST_LOG ?? 'error',
    ];
    const env = { TEST_REDIS_URL: server.url };
    const a = startWorker(args, { env, cwd: dir });
    const b = startWorker(args, { env, cwd: dir });
    try {
      // Both supervisors are in Sidekiq's registry, and each verk node names its supervisor.
      const identities = await waitFor(
        async () => {
          const ids = await r.smembers('processes');
          return ids.length === 2 ? ids : undefined;
        },
        { timeoutMs: 20_000, what: 'two processes registered' },
      );
      // Node ids are read again where they are used: a worker process may be replaced meanwhile.
      const currentNodes = () =>
        waitFor(
          async () => {
            const ids = await r.smembers('verk_nodes');
            const withIdentity = await Promise.all(
              ids.map(async (id) => ({
                id,
                identity: await r.hget(`verk:node:${id}:info`, 'identity'),
                pid: Number(await r.hget(`verk:node:${id}:info`, 'pid')),
              })),
            );
            return withIdentity.length === 2 && withIdentity.every((n) => n.identity && n.pid > 0) ? withIdentity : undefined;
          },
          { timeoutMs: 20_000, what: 'two nodes registered' },
        );
      expect((await currentNodes()).map((n) => n.identity).sort()).toEqual([...identities].sort());

      await enqueue('default', 4);
      await waitFor(async () => (await runs('default')).length === 4, { timeoutMs: 10_000, what: 'warm-up jobs' });

      // A job running when the queue is paused finishes.
      await enqueue('default', 1, '[{"sleepMs":1200}]');
      await waitFor(async () => (await r.hlen('test:started')) === 5, { timeoutMs: 5000, what: 'slow job started' });
      const pause = await verk(['pause', 'default', ...url()]);
      expect(pause.exitCode).toBe(0);
      await enqueue('default', 10);
      await enqueue('other', 3);
      await waitFor(async () => (await runs('other')).length === 3, { timeoutMs: 10_000, what: 'other queue still served' });
      await waitFor(async () => (await runs('default')).length === 5, { timeoutMs: 5000, what: 'running job finished while paused' });
      await new Promise((res) => setTimeout(res, 1500));
      expect(await r.llen('queue:default')).toBe(10);
      expect(await r.hlen('test:started')).toBe(5 + 3);
      for (const k of await r.keys('inprogress:default:*')) expect(await r.llen(k)).toBe(0);
      const q = JSON.parse((await verk(['queues', '--json', ...url()])).stdout);
      expect(q.queues.find((x: { name: string }) => x.name === 'default')).toMatchObject({ size: 10, paused: true });

      // Resume: note when the pause flag is gone, then when the first waiting job starts.
      let resumedAt = 0;
      const watcher = waitFor(async () => ((await r.sismember('verk:paused', 'default')) === 0 ? (resumedAt = Date.now()) : 0), { timeoutMs: 20_000, intervalMs: 5 });
      const resume = await verk(['resume', 'default', ...url()]);
      expect(resume.exitCode).toBe(0);
      await watcher;
      await waitFor(async () => (await runs('default')).length === 15, { timeoutMs: 5000, what: 'all paused jobs run after resume' });
      const firstStart = Math.min(...(await runs('default')).slice(5).map((x) => x.start));
      // A paused queue is looked at again every blockTimeout (docs/cli.md, "verk pause").
      expect(firstStart - resumedAt).toBeLessThan(TEST_INTERVALS.blockMs + 1000);
      expect(await r.llen('queue:default')).toBe(0);

      // Remote quiet of every process: both report quiet and fetch nothing more.
      const quiet = await verk(['quiet', '--all', '--json', ...url()]);
      expect(JSON.parse(quiet.stdout).targets).toHaveLength(2);
      await waitFor(async () => (await Promise.all(identities.map((id) => r.hget(id, 'quiet')))).every((x) => x === 'true'), { timeoutMs: 5000, what: 'both quiet' });
      // A worker process that dies while its supervisor is quiet is replaced by a quiet one.
      const before = await currentNodes();
      const victim = before[1];
      process.kill(victim.pid, 'SIGKILL');
      await waitFor(
        async () => {
          const ids = await r.smembers('verk_nodes');
          const fresh = ids.filter((id) => !before.some((n) => n.id === id));
          return fresh.length === 1 && (await r.hget(`verk:node:${fresh[0]}:info`, 'identity')) === victim.identity;
        },
        { timeoutMs: 10_000, what: 'replacement worker process registered' },
      );
      await new Promise((res) => setTimeout(res, 300)); // let it load its handlers
      await enqueue('other', 2);
      await new Promise((res) => setTimeout(res, 1000));
      expect(await r.llen('queue:other'), JSON.stringify((await runs('other')).slice(3))).toBe(2);

      // Remote stop by a verk node id: only that node's supervisor exits, and leaves `processes`.
      const target = (await currentNodes())[0];
      const stop = await verk(['stop', target.id, ...url()]);
      expect(stop.exitCode).toBe(0);
      expect(stop.stdout).toContain(target.identity!);
      const pidOf = (id: string) => Number(id.split(':').at(-2));
      const stopped = pidOf(target.identity!) === a.pid ? a : b;
      const result = await Promise.race([stopped, new Promise((res) => setTimeout(() => res('timeout'), 15_000))]);
      expect(result).not.toBe('timeout');
      expect((result as { exitCode?: number }).exitCode).toBe(0);
      expect(await r.smembers('processes')).toEqual(identities.filter((id) => id !== target.identity));
    } catch (err) {
      // Show what the workers said: a timeout alone does not tell why.
      signalGroup(a.pid!, 'SIGTERM');
      signalGroup(b.pid!, 'SIGTERM');
      const outs = await Promise.all([a, b]);
      throw Object.assign(err as Error, { message: `${(err as Error).message}\n--- verk work output ---\n${outs.map((o) => o.all).join('\n---\n')}` });
    } finally {
      signalGroup(a.pid!, 'SIGTERM');
      signalGroup(b.pid!, 'SIGTERM');
      await Promise.all([a, b]);
    }
  });
});
