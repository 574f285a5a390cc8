// Job timeouts with the built CLI: a handler that honours ctx.signal fails with TimeoutError
// (normal retry rules); one that ignores it for killGrace gets its worker process recycled
// (a new node id) while the other jobs of that process are handed back and complete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startWorker, signalGroup } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { SLEEP_HANDLER, enqueueRaw, fastArgs, inProgress, jsonLines, projectWithHandlers, rawJob, registeredNodes } from '../helpers/e2e-kit.js';

const HONOUR = `export const options = { timeout: 300 };
export async function perform(_args: unknown[], ctx: { signal: AbortSignal }) {
  await new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
}
`;
const IGNORE = `export const options = { timeout: '300ms' };
export async function perform() { await new Promise((r) => setTimeout(r, 60_000)); }
`;

let redis: RedisServer;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = projectWithHandlers({ Honour: HONOUR, Ignore: IGNORE, Sleep: SLEEP_HANDLER });
});
afterAll(async () => {
  await redis?.stop();
});

async function oneRunningNode() {
  return waitFor(
    async () => {
      const nodes = (await registeredNodes(redis.client)).filter((n) => n.state === 'running');
      return nodes.length === 1 ? nodes[0] : undefined;
    },
    { timeoutMs: 15_000, what: 'a running node' },
  );
}

async function retryEntries(): Promise<Record<string, unknown>[]> {
  return (await redis.client.zrange('retry', 0, -1)).map((r) => JSON.parse(r) as Record<string, unknown>);
}

describe('job timeouts', () => {
  it('a handler that honours its signal fails with TimeoutError and goes to retry; the process stays', async () => {
    await redis.client.flushall();
    const worker = startWorker(fastArgs(redis.url, ['-p', '1', '-q', 'default:4', '--kill-grace', '300ms']), { cwd: dir });
    try {
      const node = await oneRunningNode();
      const job = rawJob('Honour', []);
      await enqueueRaw(redis.client, [job]);
      const [failed] = await waitFor(
        async () => {
          const r = await retryEntries();
          return r.length === 1 ? r : undefined;
        },
        { what: 'the job in retry' },
      );
      expect(failed.jid).toBe(JSON.parse(job).jid);
      expect(failed.error_class).toBe('TimeoutError');
      expect(failed.error_message).toMatch(/timeout of 300ms/);
      expect(failed.retry_count).toBe(0);
      // Past killGrace: the handler returned when aborted, so no recycle.
      await new Promise((r) => setTimeout(r, 600));
      expect((await registeredNodes(redis.client)).map((n) => n.id)).toEqual([node.id]);
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
      expect((await worker).exitCode).toBe(0);
    }
  });

  it('a handler that ignores its signal gets its process recycled; the other jobs there are handed back and complete', async () => {
    await redis.client.flushall();
    const worker = startWorker(fastArgs(redis.url, ['-p', '1', '-q', 'default:4', '--kill-grace', '300ms']), { cwd: dir });
    let output = '';
    worker.all?.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const first = await oneRunningNode();
      const ignore = rawJob('Ignore', []);
      const others = [rawJob('Sleep', [1500]), rawJob('Sleep', [1500])];
      await enqueueRaw(redis.client, [ignore, ...others]);
      await waitFor(async () => (await inProgress(redis.client)).length === 3, { what: '3 jobs in progress' });

      // The process is replaced by one with a new node id.
      const second = await waitFor(
        async () => {
          const nodes = (await registeredNodes(redis.client)).filter((n) => n.state === 'running');
          return nodes.length === 1 && nodes[0].id !== first.id ? nodes[0] : undefined;
        },
        { timeoutMs: 15_000, what: 'a replacement node' },
      );
      expect(second.pid).not.toBe(first.pid);

      // The ignoring job failed once with TimeoutError; the others were not charged a retry and completed.
      // stat:processed counts failures too (Sidekiq's rule): 2 successes + the timed-out job.
      await waitFor(async () => (await redis.client.get('stat:processed:default')) === '3', { timeoutMs: 15_000, what: 'the two other jobs processed' });
      expect(await redis.client.get('stat:failed:default')).toBe('1');
      const retry = await retryEntries();
      expect(retry.map((r) => [r.jid, r.error_class])).toEqual([[JSON.parse(ignore).jid, 'TimeoutError']]);
      expect(await redis.client.llen('queue:default')).toBe(0);
      expect(await redis.client.zcard('dead')).toBe(0);
      const lines = jsonLines(output);
      expect(lines.some((l) => l.msg === 'recycling worker process' && l.node === first.id)).toBe(true);
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
      expect((await worker).exitCode).toBe(0);
    }
  });
});
