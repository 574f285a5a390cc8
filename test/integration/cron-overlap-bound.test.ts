// skip-if-running under a backlog: the script looks for the previous job with one LPOS per form
// (its exact bytes and the "verk_recovered": 0..maxRecoveries forms), each with MAXLEN
// overlapScanMax / forms, from the queue's head (the newest jobs). With the default
// maxRecoveries 3 (5 forms), a queue of more than 20 000 jobs is "cannot tell", which counts as
// running: the entry is skipped at every tick, even when its previous job finished long ago,
// for as long as the backlog lasts (a nightly job silently stops during an incident).
// NOT FIXED (issue 14 note): `it.fails` records the bug — it runs, and it turns red the day the
// script gets it right (then make it a plain `it`). Candidate fixes: remember the previous job's
// settlement (its ack) so "finished" needs no scan, or budget by elements, not elements × forms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCron } from '../../src/config/cron.js';
import { cronJobHead } from '../../src/job/cron-job.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

let server: RedisServer;
const keys = makeKeys('');

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => server.stop());

describe('skip-if-running with a backlog in its queue', () => {
  it.fails('fires when the previous job is finished, even with 25 000 other jobs queued', async () => {
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
    // The previous job ran and was acked: gone from the queue. Then a backlog of other jobs.
    await server.client.del(keys.queue(e.queue));
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
