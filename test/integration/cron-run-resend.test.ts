// `verk cron run` across a lost reply: the admin connection (connectRedis, as admin-context.ts
// makes it) sends the run, Redis runs the script, the connection dies before the reply arrives,
// and ioredis re-sends the unanswered command on its new connection. The run must enqueue one
// job, not two (the tick modes are deduped by the watermark; the run mode by its jid).
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCron } from '../../src/config/cron.js';
import { cronJobHead } from '../../src/job/cron-job.js';
import { connectRedis } from '../../src/redis/connection.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

let server: RedisServer;
let proxy: TcpProxy;
const keys = makeKeys('');
const [entry] = parseCron({ nightly: { class: 'Reports.Nightly', schedule: '0 3 * * *' } }, (why) => {
  throw new Error(why);
});

beforeAll(async () => {
  server = await startRedis();
  proxy = await startProxy({ port: server.port });
});
afterAll(async () => {
  await proxy.close();
  await server.stop();
});

describe('cron run after a lost reply', () => {
  it('enqueues the job once when ioredis re-sends the unanswered run', async () => {
    const redis: Redis = connectRedis(proxy.url, { name: 'verk:admin', maxRetriesPerRequest: 1, autoPipeline: true, oneShot: true });
    try {
      const scripts = new Scripts(redis, keys);
      await redis.ping();
      // Load the script first, so the run below is one EVALSHA whose reply we can lose.
      await scripts.cronTick({ mode: 'init', name: entry.name, queue: entry.queue, overlap: entry.overlap, tickMs: 0, head: '{', jid: 'x', by: 't', recoveredForms: 0 });
      proxy.latency(400);
      const { head, jid } = cronJobHead(entry);
      const run = scripts.cronTick({ mode: 'run', name: entry.name, queue: entry.queue, overlap: entry.overlap, tickMs: 0, head, jid, by: 'cli', recoveredForms: 0 });
      run.catch(() => undefined);
      // The script has run on Redis; its reply is still on its way: cut the connection.
      await waitFor(async () => (await server.client.llen(keys.queue('default'))) >= 1, { timeoutMs: 20_000 });
      proxy.reset();
      await proxy.heal();
      const r = await run.catch((err: Error) => err);
      // The reply came from the re-sent command (it was lost on the first connection), so both
      // executions are done: Redis must hold the run's job once.
      const jobs = await server.client.lrange(keys.queue('default'), 0, -1);
      expect(
        jobs.filter((j) => j.includes(jid)),
        `reply: ${r instanceof Error ? r.message : JSON.stringify(r)}`,
      ).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});
