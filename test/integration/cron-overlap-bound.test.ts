// skip-if-running under a backlog. The script used to look for the previous job with one LPOS per
// form (its exact bytes and the "verk_recovered": 0..maxRecoveries forms) from the queue's head,
// with a bound: with the default maxRecoveries 3 (5 forms), a queue of more than 20 000 jobs was
// "cannot tell", which counts as running, so the entry was skipped at every tick for as long as the
// backlog lasted (a nightly job silently stopped during an incident; this test failed). The fired
// job now carries the entry's unique lock, released by its ack: no search, whatever the backlog.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCron } from '../../src/config/cron.js';
import { cronJobHead } from '../../src/job/cron-job.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { fakeRegistry, workerKit } from '../helpers/engine-kit.js';

let server: RedisServer;
const keys = makeKeys('');

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => server.stop());

describe('skip-if-running with a backlog in its queue', () => {
  it('fires when the previous job is finished, even with 25 000 other jobs queued', async () => {
    const [e] = parseCron({ nightly: { class: 'Reports.Nightly', schedule: '* * * * * *', overlap: 'skip-if-running' } }, (why) => {
      throw new Error(why);
    });
    const scripts = new Scripts(server.client, keys);
    const call = (mode: 'init' | 'fire', tickMs: number, expectedMs: number) => {
      const { head, jid } = cronJobHead(e);
      return scripts.cronTick({ mode, name: e.name, queue: e.queue, overlap: e.overlap, tickMs, expectedMs, head, jid, by: 't', recoveredForms: 3 });
    };
    const armed = await call('init', 0, 0);
    const first = Math.floor(armed.nowMs / 1000) * 1000 + 1000;
    await waitRedisPast(first);
    expect((await call('fire', first, armed.nowMs)).outcome).toBe('fired');
    // The previous job runs and is acked (releasing the entry's lock). Then a backlog of other jobs.
    const kit = await workerKit(server.url, 'w1', fakeRegistry({ 'Reports.Nightly': () => undefined }), { queue: e.queue });
    try {
      kit.worker.start();
      await waitFor(async () => (await server.client.exists('verk:unique:cron:nightly')) === 0, { what: 'the ack releasing the lock' });
    } finally {
      await kit.worker.stopFetching();
      await kit.close();
    }
    expect(await server.client.llen(keys.queue(e.queue))).toBe(0);
    for (let i = 0; i < 25; i++) await server.client.lpush(keys.queue(e.queue), ...Array.from({ length: 1000 }, (_, j) => `{"jid":"other-${i}-${j}"}`));
    const second = first + 1000;
    await waitRedisPast(second);
    const r = await call('fire', second, first);
    expect(r.reason).toBeUndefined();
    expect(r.outcome).toBe('fired');
  }, 60_000);
});

async function waitRedisPast(ms: number): Promise<void> {
  await waitFor(
    async () => {
      const [sec, us] = await server.client.time();
      return Number(sec) * 1000 + Math.floor(Number(us) / 1000) >= ms;
    },
    { timeoutMs: 20_000, intervalMs: 50, what: "Redis's clock passes the tick" },
  );
}
