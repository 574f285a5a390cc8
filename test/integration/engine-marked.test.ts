// Start records of recovered ("marked") jobs, in the test process against a private Redis: a
// marked job's identity is in verk:node:<id>:started before its perform is invoked, marked jobs
// start strictly one after another (so one that dies synchronously leaves no record for those
// behind it), unmarked jobs write nothing, records go once the job is settled, a job whose
// record cannot be written is handed back unstarted, and the running snapshot lists only
// started jobs by their identity.
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';
import { fakeRegistry, job, keys, latch, workerKit, type WorkerKit } from '../helpers/engine-kit.js';
import { payloadIdentity } from '../../src/job/identity.js';

let server: RedisServer;
let r: RedisServer['client'];

usePrivateRedis((s) => {
  server = s;
  r = s.client;
});

/** Records every SADD the worker's connection issues and the ones Redis has answered. */
function watchStartRecords(kit: WorkerKit) {
  const issued: string[] = [];
  const stored: string[] = [];
  const sadd = kit.redis.sadd.bind(kit.redis) as (key: string, member: string) => Promise<number>;
  (kit.redis as unknown as { sadd: typeof sadd }).sadd = (key, member) => {
    issued.push(`${key} ${member}`);
    const p = sadd(key, member);
    p.then(
      () => stored.push(member),
      () => undefined,
    );
    return p;
  };
  return { issued, stored };
}

describe('start records of marked jobs', () => {
  it('are stored before perform, one marked job at a time; none for the jobs behind one that dies at once', async () => {
    const seen: { id: string; stored: string[] }[] = [];
    let records: { issued: string[]; stored: string[] } | undefined;
    const kit = await workerKit(
      server.url,
      'n-mark',
      fakeRegistry({
        T: (args) => {
          const id = String(args[0]);
          seen.push({ id, stored: [...records!.stored] });
          if (id === 'dies') throw new Error('would have killed its process here');
        },
      }),
      { concurrency: 10 },
    );
    records = watchStartRecords(kit);
    // Fetch order: m1, u1 (unmarked), m2, dies, m3, u2.
    const order = [
      job('m1', { verk_recovered: 0 }),
      job('u1'),
      job('m2', { verk_recovered: 1 }),
      job('dies', { verk_recovered: 0 }),
      job('m3', { verk_recovered: 0 }),
      job('u2'),
    ];
    for (const p of order) await r.lpush(keys.queue('q'), p);
    try {
      kit.worker.start();
      await waitFor(async () => Number(await r.get(keys.processed('q'))) === 6, { what: 'all 6 settled' });
      const at = (id: string) => seen.find((s) => s.id === id)!.stored;
      // Unmarked jobs start at once and write nothing.
      expect(records.issued.some((c) => c.includes('ju'))).toBe(false);
      // Each marked job's record is stored when its perform runs, and no later marked job's is:
      // had `dies` killed its process, m3 would have no start record.
      expect(at('m1')).toEqual(['jm1']);
      expect(at('m2')).toEqual(['jm1', 'jm2']);
      expect(at('dies')).toEqual(['jm1', 'jm2', 'jdies']);
      expect(at('m3')).toEqual(['jm1', 'jm2', 'jdies', 'jm3']);
      expect(records.issued).toEqual(['jm1', 'jm2', 'jdies', 'jm3'].map((id) => `${keys.nodeStarted('n-mark')} ${id}`));
      // Settled jobs lose their record; the failed one goes to retry without its mark.
      await waitFor(async () => (await r.scard(keys.nodeStarted('n-mark'))) === 0, { what: 'records removed' });
      const [retried] = await r.zrange(keys.retry, 0, -1);
      expect(JSON.parse(retried)).not.toHaveProperty('verk_recovered');
    } finally {
      await kit.close();
    }
  });

  it('a marked job whose record cannot be written is handed back unstarted', async () => {
    // A Redis user that may use every key the worker needs but its start-record set: the
    // record write fails every time (NOPERM), everything else works.
    const node = 'n-nosadd';
    const allowed = [
      'queue:*',
      'inprogress:*',
      'stat:*',
      'retry',
      'dead',
      'queues',
      'verk_nodes',
      'verk:heartbeats',
      'verk:paused',
      'verk:stat:*',
      `verk:node:${node}`,
      `verk:node:${node}:queues`,
      `verk:node:${node}:info`,
      `verk:node:${node}:claim:*`,
    ];
    await r.call('ACL', 'SETUSER', 'nosadd', 'on', '>pw', 'resetkeys', ...allowed.map((k) => `~${k}`), '&*', '+@all');
    const url = server.url.replace('redis://', 'redis://nosadd:pw@');
    const ran: unknown[] = [];
    const kit = await workerKit(url, node, fakeRegistry({ T: (args) => void ran.push(args[0]) }));
    const payload = job('m', { verk_recovered: 0 });
    try {
      await r.lpush(keys.queue('q'), payload);
      kit.worker.start();
      await waitFor(() => kit.worker.running.size === 1, { what: 'the job fetched' });
      await kit.worker.stopFetching(); // so it is not fetched again once handed back
      const t0 = Date.now();
      // Four attempts with backoff, then the hand-back.
      await waitFor(() => kit.worker.running.size === 0, { what: 'the job handed back', timeoutMs: 5000 });
      console.log(`[measured] start record refused: job handed back unstarted after ${Date.now() - t0}ms`);
      expect(ran).toEqual([]);
      expect(await r.lrange(keys.queue('q'), 0, -1)).toEqual([payload]);
      expect(await r.llen(keys.inprogress('q', node))).toBe(0);
      expect(await r.get(keys.processed())).toBeNull();
    } finally {
      await kit.close();
      await r.call('ACL', 'DELUSER', 'nosadd');
    }
  });

  it('the running snapshot lists only started jobs, by payload identity', async () => {
    const holdU = latch();
    const holdX = latch();
    const kit = await workerKit(server.url, 'n-snap', fakeRegistry({ T: (args) => (args[0] === 'u' ? holdU.promise : holdX.promise) }), { concurrency: 5 });
    // X: a suspected poison pill (recovered twice: runs alone) without a jid.
    const x = JSON.stringify({ class: 'T', args: ['x'], queue: 'q', verk_recovered: 5 });
    try {
      await r.lpush(keys.queue('q'), job('u'), x);
      kit.worker.start();
      await waitFor(() => kit.worker.running.size === 2, { what: 'both fetched' });
      // X waits for U to finish: it is not started and not listed.
      expect(kit.worker.snapshot().map((s) => s.jid)).toEqual(['ju']);
      expect(await r.scard(keys.nodeStarted('n-snap'))).toBe(0);
      holdU.open();
      const xid = payloadIdentity(x);
      expect(xid).toMatch(/^[0-9a-f]{40}$/);
      await waitFor(() => kit.worker.snapshot().some((s) => s.jid === xid), { what: 'X listed once started' });
      expect(kit.worker.snapshot()).toHaveLength(1);
      expect(await r.smembers(keys.nodeStarted('n-snap'))).toEqual([xid]);
      holdX.open();
      await waitFor(async () => (await r.scard(keys.nodeStarted('n-snap'))) === 0, { what: 'record removed after the ack' });
    } finally {
      holdU.open();
      holdX.open();
      await kit.close();
    }
  });
});
