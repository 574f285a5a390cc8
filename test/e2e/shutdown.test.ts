// Container entrypoint signals with the built CLI, real processes and a private Redis:
// SIGTERM drains within the deadline and hands the rest back to the front of their queue,
// a second SIGINT hands back at once, SIGTSTP (quiet) flips /readyz and stops fetching.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, freePort, type RedisServer } from '../helpers/redis-server.js';
import { startWorker, signalGroup } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { SLEEP_HANDLER, enqueueRaw, jsonLines, fastArgs, httpGet, inProgress, pidAlive, projectWithHandlers, rawJob, registeredNodes } from '../helpers/e2e-kit.js';

let redis: RedisServer;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = projectWithHandlers({ Sleep: SLEEP_HANDLER });
});
afterAll(async () => {
  await redis?.stop();
});

async function runningNodes(n: number) {
  return waitFor(
    async () => {
      const nodes = (await registeredNodes(redis.client)).filter((x) => x.state === 'running' && x.pid > 0);
      return nodes.length === n ? nodes : undefined;
    },
    { timeoutMs: 15_000, what: `${n} running nodes` },
  );
}

describe('verk work signals', () => {
  it('SIGTERM: finishes what fits in the deadline, hands the rest back to the front with retry_count unchanged, exits 0 with no child left', async () => {
    await redis.client.flushall();
    const worker = startWorker(fastArgs(redis.url, ['-p', '2', '-q', 'default:2', '--shutdown-timeout', '1s']), { cwd: dir });
    const nodes = await runningNodes(2);
    const short = [rawJob('Sleep', [700]), rawJob('Sleep', [700])];
    const long = [rawJob('Sleep', [30_000], { retry_count: 2, failed_at: 1700000000.5, error_class: 'Boom' }), rawJob('Sleep', [30_000])];
    await enqueueRaw(redis.client, [short[0], long[0], short[1], long[1]]);
    await waitFor(async () => (await inProgress(redis.client)).length === 4, { what: '4 jobs in progress' });
    const fillers = [rawJob('Sleep', [0]), rawJob('Sleep', [0])];
    await enqueueRaw(redis.client, fillers);

    const t0 = Date.now();
    signalGroup(worker.pid!, 'SIGTERM');
    const res = await worker;
    const elapsed = Date.now() - t0;
    console.log(`SIGTERM → exit: ${elapsed}ms (shutdown timeout 1000ms)`);

    expect(res.exitCode).toBe(0);
    expect(elapsed).toBeLessThan(2000);
    expect(await redis.client.get('stat:processed:default')).toBe('2');
    const queue = await redis.client.lrange('queue:default', 0, -1);
    expect(queue).toHaveLength(4);
    // The handed-back jobs sit at the fetch end (RPOP side): next in line, before the fillers.
    expect(queue.slice(2).sort()).toEqual([...long].sort());
    expect(queue.slice(0, 2).sort()).toEqual([...fillers].sort());
    // Byte for byte what was enqueued: no retry spent, retry_count unchanged.
    expect(JSON.parse(queue.find((q) => q === long[0])!).retry_count).toBe(2);
    expect(await redis.client.zcard('retry')).toBe(0);
    expect(await inProgress(redis.client)).toEqual([]);
    expect(await redis.client.smembers('verk_nodes')).toEqual([]);
    for (const n of nodes) expect(pidAlive(n.pid), `worker process ${n.pid} still alive`).toBe(false);
    const handedBack = jsonLines(String(res.all))
      .filter((l) => l.msg === 'node stopped')
      .reduce((n, l) => n + Number(l.handed_back), 0);
    expect(handedBack).toBe(2);
  });

  it('a second SIGINT skips the wait: exits at once with the running jobs handed back', async () => {
    await redis.client.flushall();
    const port = await freePort();
    const worker = startWorker(fastArgs(redis.url, ['-p', '1', '-q', 'default:2', '--shutdown-timeout', '20s', '--health-port', String(port)]), { cwd: dir });
    const [node] = await runningNodes(1);
    const long = [rawJob('Sleep', [30_000]), rawJob('Sleep', [30_000])];
    await enqueueRaw(redis.client, long);
    await waitFor(async () => (await inProgress(redis.client)).length === 2, { what: '2 jobs in progress' });

    signalGroup(worker.pid!, 'SIGINT');
    const notReady = await waitFor(
      async () => {
        const r = await httpGet(port, '/readyz');
        return r.status === 503 ? r : undefined;
      },
      { what: '/readyz 503 while shutting down' },
    );
    expect(JSON.parse(notReady.body).reasons).toContain('shutting down');
    const t0 = Date.now();
    signalGroup(worker.pid!, 'SIGINT');
    const res = await worker;
    const elapsed = Date.now() - t0;
    console.log(`second SIGINT → exit: ${elapsed}ms (shutdown timeout 20000ms)`);

    expect(res.exitCode).toBe(0);
    expect(elapsed).toBeLessThan(1500);
    expect((await redis.client.lrange('queue:default', 0, -1)).sort()).toEqual([...long].sort());
    expect(await inProgress(redis.client)).toEqual([]);
    expect(await redis.client.zcard('retry')).toBe(0);
    expect(pidAlive(node.pid)).toBe(false);
  });

  it('SIGTSTP: quiet flips /readyz to 503, keeps /livez 200 and stops fetching; SIGTERM then exits 0', async () => {
    await redis.client.flushall();
    const port = await freePort();
    const worker = startWorker(fastArgs(redis.url, ['-p', '1', '--health-port', String(port)]), { cwd: dir });
    await runningNodes(1);
    await waitFor(async () => (await httpGet(port, '/readyz')).status === 200, { what: '/readyz 200' });

    signalGroup(worker.pid!, 'SIGTSTP');
    const quiet = await waitFor(
      async () => {
        const r = await httpGet(port, '/readyz');
        return r.status === 503 ? r : undefined;
      },
      { what: '/readyz 503 after SIGTSTP' },
    );
    expect(JSON.parse(quiet.body).reasons.join(' ')).toMatch(/quiet/);
    expect((await httpGet(port, '/livez')).status).toBe(200);
    expect((await httpGet(port, '/metrics')).body).toMatch(/^verk_quiet 1$/m);
    await waitFor(async () => (await registeredNodes(redis.client)).every((n) => n.state === 'quiet'), { what: 'node state quiet' });

    const job = rawJob('Sleep', [0]);
    await enqueueRaw(redis.client, [job]);
    // A bounded look: longer than the fetcher's block timeout (2 s) would need to notice a job.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await redis.client.lrange('queue:default', 0, -1)).toEqual([job]);
    expect(await redis.client.get('stat:processed:default')).toBeNull();

    signalGroup(worker.pid!, 'SIGTERM');
    const res = await worker;
    expect(res.exitCode).toBe(0);
  });

  // Last: it kills this file's Redis.
  it('SIGTERM while Redis is down still ends the process (and its children) before shutdown timeout + 5 s', async () => {
    await redis.client.flushall();
    redis.client.on('error', () => undefined);
    const worker = startWorker(fastArgs(redis.url, ['-p', '1', '--shutdown-timeout', '1s']), { cwd: dir });
    const [node] = await runningNodes(1);
    await enqueueRaw(redis.client, [rawJob('Sleep', [30_000])]);
    await waitFor(async () => (await inProgress(redis.client)).length === 1, { what: 'the job in progress' });
    process.kill(redis.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));

    const t0 = Date.now();
    signalGroup(worker.pid!, 'SIGTERM');
    const res = await worker;
    const elapsed = Date.now() - t0;
    console.log(`SIGTERM with Redis down → exit ${res.exitCode} after ${elapsed}ms (shutdown timeout 1000ms)`);
    expect(elapsed).toBeLessThan(6000);
    await waitFor(() => !pidAlive(node.pid), { timeoutMs: 1000, what: `worker process ${node.pid} gone` });
  });
});
