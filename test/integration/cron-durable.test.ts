// durability 'replicated' and periodic jobs: a fired tick is an enqueue, so it is confirmed by a
// replica (WAIT) like every enqueue (docs/redis-ha.md, "enqueue (all forms)"); with no replica
// it is reported unconfirmed (onUnconfirmed, the `unreplicated` metric), and a call that wrote
// nothing (a dup) sends no WAIT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCron } from '../../src/config/cron.js';
import { cronJobHead } from '../../src/job/cron-job.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

let master: RedisServer;
let replica: RedisServer;
const keys = makeKeys('');
const [entry] = parseCron({ nightly: { class: 'Reports.Nightly', schedule: '* * * * * *' } }, (why) => {
  throw new Error(why);
});

beforeAll(async () => {
  [master, replica] = await Promise.all([startRedis(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([master.stop(), replica.stop()]);
});

async function redisNow(s: RedisServer): Promise<number> {
  const [sec, us] = await s.client.time();
  return Number(sec) * 1000 + Math.floor(Number(us) / 1000);
}

/** Arms the entry, waits for its next tick and fires it; returns the outcomes and the writes reported unconfirmed. */
async function armAndFire(server: RedisServer, timeoutMs: number): Promise<{ outcomes: string[]; unconfirmed: string[] }> {
  await server.client.flushall();
  const unconfirmed: string[] = [];
  const scripts = new Scripts(server.client, keys, { timeoutMs, onUnconfirmed: (what) => unconfirmed.push(what) });
  const call = (mode: 'init' | 'fire', tickMs: number, expectedMs: number) => {
    const { head, jid } = cronJobHead(entry);
    return scripts.cronTick({ mode, name: entry.name, queue: entry.queue, overlap: entry.overlap, tickMs, expectedMs, head, jid, by: 't', recoveredForms: 3 });
  };
  const armed = await call('init', 0, 0);
  const tick = Math.floor(armed.nowMs / 1000) * 1000 + 1000;
  await waitFor(async () => (await redisNow(server)) >= tick, { timeoutMs: 20_000, intervalMs: 50, what: 'the tick is due' });
  const fired = await call('fire', tick, armed.nowMs);
  const before = unconfirmed.length;
  const dup = await call('fire', tick, armed.nowMs);
  expect(unconfirmed.length, 'a dup wrote nothing: nothing to confirm').toBe(before);
  return { outcomes: [armed.outcome, fired.outcome, dup.outcome], unconfirmed };
}

describe('cron ticks with durability replicated', () => {
  it('reports a fired tick that no replica confirmed', async () => {
    const r = await armAndFire(master, 100);
    expect(r.outcomes).toEqual(['init', 'fired', 'dup']);
    expect(r.unconfirmed).toEqual(['cronTick', 'cronTick']);
  }, 60_000);

  it('confirms a fired tick a replica has (and the replica holds the job)', async () => {
    await master.client.config('SET', 'repl-diskless-sync-delay', '0'); // the sync at once, not after 5 s
    await replica.client.replicaof('127.0.0.1', master.port);
    await waitFor(async () => /master_link_status:up/.test(await replica.client.info('replication')), { timeoutMs: 20_000, what: 'replica linked' });
    // A generous WAIT: a replica that is there answers at once; a loaded box may be slow right after the sync.
    const r = await armAndFire(master, 5_000);
    expect(r.outcomes).toEqual(['init', 'fired', 'dup']);
    expect(r.unconfirmed).toEqual([]);
    expect(await replica.client.llen(keys.queue('default'))).toBe(1);
  }, 60_000);
});
