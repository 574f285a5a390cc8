// `verk work` end to end with the built CLI in real processes: 1 000 jobs over 2 worker
// processes run exactly once; a failing job goes to retry then dead with Sidekiq's fields; a
// scheduled job runs after its time; a malformed payload ends in dead while the rest complete;
// `verk enqueue --retry N` writes N as retry and as Elixir verk's max_retry_count, and N holds.
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { startWorker, signalGroup, verk } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { executions, doneCount, workArgs, workEnv, liveNodes, usePrivateRedis } from '../helpers/e2e.js';
import type { Client } from '../../src/api/client.js';

let server: RedisServer;
let client: Client;
usePrivateRedis((s, c) => ([server, client] = [s, c]));

async function withWorker<T>(args: string[], body: () => Promise<T>): Promise<T> {
  const worker = startWorker(workArgs(server, args), { env: workEnv(server) });
  try {
    return await body();
  } finally {
    signalGroup(worker.pid!, 'SIGTERM');
    const res = await worker;
    if (res.exitCode !== 0) console.log(String(res.all).slice(-3000));
    expect(res.exitCode).toBe(0);
  }
}

describe('verk work', () => {
  it('runs 1 000 jobs across 2 worker processes, each exactly once', async () => {
    const N = 1000;
    const jids = await client.enqueueBulk(Array.from({ length: N }, (_, i) => ({ class: 'Count', args: [i] })));
    const started = Date.now();
    await withWorker(['--queues', 'default:10', '--processes', '2'], async () => {
      await waitFor(async () => (await doneCount(server.client)) === N, { timeoutMs: 30_000, what: `${N} jobs to run` });
      const wall = Date.now() - started;
      const ex = await executions(server.client);
      const counts = [...ex.values()];
      const pids = new Set(Object.values(await server.client.hgetall('test:pid')));
      console.log(
        `[measured] ${N} jobs, 2 processes: ${ex.size} distinct jids, max executions per jid ${Math.max(...counts)}, ${pids.size} worker pids, wall ${wall} ms (incl. start)`,
      );
      expect(ex.size).toBe(N);
      expect(counts.every((c) => c === 1)).toBe(true);
      expect(new Set(jids)).toEqual(new Set(ex.keys()));
      expect(pids.size).toBe(2);
      await waitFor(async () => (await server.client.get('stat:processed')) === String(N), { what: 'stat:processed' });
      expect(await server.client.get('stat:processed:default')).toBe(String(N));
      expect(await server.client.llen('queue:default')).toBe(0);
      expect((await liveNodes(server.client)).length).toBe(2);
    });
    // A clean stop deregisters every node and leaves no in-progress list behind.
    expect(await server.client.scard('verk_nodes')).toBe(0);
    expect(await server.client.keys('inprogress:*')).toEqual([]);
  });

  it("a failing job shows up in retry, then in dead, with Sidekiq's error fields", async () => {
    const jid = await client.enqueue({ class: 'Fail', args: [12345678901234567890, 'é'] as unknown[], argsJson: '[12345678901234567890,"é"]' });
    await withWorker(['--queues', 'default:2', '--processes', '1'], async () => {
      const [retry] = await waitFor(async () => server.client.zrange('retry', 0, -1).then((r) => (r.length ? r : null)), { what: 'retry entry' });
      const r = JSON.parse(retry);
      expect(r).toMatchObject({ jid, class: 'Fail', queue: 'default', retry_count: 0, error_class: 'TypeError' });
      expect(r.error_message).toContain('failing on purpose');
      expect(typeof r.failed_at).toBe('number');
      expect(r.retried_at).toBeUndefined();
      expect(Array.isArray(r.error_backtrace)).toBe(true);
      expect(retry).toContain('"args":[12345678901234567890,"é"]');
      const [dead] = await waitFor(async () => server.client.zrange('dead', 0, -1).then((d) => (d.length ? d : null)), { what: 'dead entry', timeoutMs: 15_000 });
      const d = JSON.parse(dead);
      expect(d).toMatchObject({ jid, retry_count: 1, error_class: 'TypeError', failed_at: r.failed_at });
      expect(typeof d.retried_at).toBe('number');
      expect(dead).toContain('"args":[12345678901234567890,"é"]');
      expect(await server.client.zcard('retry')).toBe(0);
      expect((await executions(server.client)).get(jid)).toBe(2);
      expect(await server.client.get('stat:failed')).toBe('2');
    });
  });

  it('verk enqueue --retry 0 writes retry and max_retry_count 0 (Elixir verk reads the latter); the job goes to dead at its first failure', async () => {
    const res = await verk(['enqueue', 'Fail', '"once"', '--retry', '0', '--json', '--redis-url', server.url]);
    expect(res.exitCode).toBe(0);
    const { jid } = JSON.parse(res.stdout);
    const [stored] = await server.client.lrange('queue:default', 0, -1);
    expect(stored).toMatch(new RegExp(`^\\{"retry":0,"max_retry_count":0,"queue":"default","class":"Fail","args":\\["once"\\],"jid":"${jid}",`));
    await withWorker(['--queues', 'default:2', '--processes', '1'], async () => {
      const [dead] = await waitFor(async () => server.client.zrange('dead', 0, -1).then((d) => (d.length ? d : null)), { what: 'dead entry' });
      expect(JSON.parse(dead)).toMatchObject({ jid, retry: 0, max_retry_count: 0, retry_count: 0, error_class: 'TypeError' });
      expect(await server.client.zcard('retry')).toBe(0);
      expect((await executions(server.client)).get(jid)).toBe(1);
    });
  });

  it('a job enqueued with --in runs after its time', async () => {
    const res = await verk(['enqueue', 'Count', '{"n":1}', '--in', '1500ms', '--json', '--redis-url', server.url]);
    expect(res.exitCode).toBe(0);
    const { jid, scheduled_at } = JSON.parse(res.stdout);
    expect(await server.client.zcard('schedule')).toBe(1);
    await withWorker(['--queues', 'default:2', '--processes', '1'], async () => {
      const started = Number(await waitFor(() => server.client.hget('test:started', jid), { what: 'scheduled job to run' }));
      console.log(`[measured] scheduled job ran ${started - Date.parse(scheduled_at)} ms after its time`);
      expect(started).toBeGreaterThanOrEqual(Date.parse(scheduled_at));
      expect((await executions(server.client)).get(jid)).toBe(1);
    });
  });

  it('a malformed payload ends in dead as its raw string while the other jobs complete', async () => {
    await client.enqueueBulk(Array.from({ length: 20 }, (_, i) => ({ class: 'Count', args: [i] })));
    await server.client.lpush('queue:default', '{"class": "Count", "args": [1,');
    await client.enqueueBulk(Array.from({ length: 20 }, (_, i) => ({ class: 'Count', args: [i + 20] })));
    await server.client.lpush('queue:default', '{"class":"NoSuchHandler","args":[],"jid":"nohandler0000000000000","retry":0}');
    await withWorker(['--queues', 'default:3', '--processes', '1'], async () => {
      await waitFor(async () => (await doneCount(server.client)) === 40, { what: '40 good jobs' });
      const dead = await waitFor(async () => server.client.zrange('dead', 0, -1).then((d) => (d.length === 2 ? d : null)), { what: 'two dead entries' });
      expect(dead).toContain('{"class": "Count", "args": [1,');
      const unknown = JSON.parse(dead.find((d) => d.includes('NoSuchHandler'))!);
      expect(unknown.error_class).toBe('UnknownJobClass');
      const [why] = await server.client.lrange('verk:malformed', 0, -1);
      expect(JSON.parse(why)).toMatchObject({ queue: 'default', preview: '{"class": "Count", "args": [1,' });
      expect(await server.client.keys('inprogress:*').then((ks) => Promise.all(ks.map((k) => server.client.llen(k))))).toEqual(expect.not.arrayContaining([1]));
    });
  });
});
