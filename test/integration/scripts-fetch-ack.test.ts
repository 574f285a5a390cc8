// Fetch, ack, fail and hand-back scripts against a real redis-server: FIFO order, fencing
// (a node without its heartbeat key fetches and settles nothing), pause, stats, dead trimming;
// the ack by position and hash (a zombie's ack changes nothing), and the fetch's byte budget.
import { beforeAll, describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { useScriptsServer } from '../helpers/scripts-server.js';
import type { Scripts } from '../../src/redis/scripts.js';
import { ackRef } from '../../src/core/ack-plan.js';
import { SCRIPT_BOUNDS } from '../../src/config/defaults.js';

const NODE = 'n1';

const ctx = useScriptsServer(async ({ scripts }) => {
  await scripts.register(NODE, 10_000, 60_000, { host: 'test' });
});
const keys = ctx.keys;
let server: RedisServer;
let scripts: Scripts;
beforeAll(() => {
  ({ server, scripts } = ctx);
});

const job = (n: number) => JSON.stringify({ class: 'T', args: [n], jid: `j${n}`, queue: 'q' });
/** The payload as the scripts return it: bytes. */
const jobB = (n: number) => Buffer.from(job(n));

describe('fetch', () => {
  it('moves the oldest jobs first into the in-progress list and records the queue', async () => {
    for (let i = 1; i <= 5; i++) await server.client.lpush(keys.queue('q'), job(i));
    const r = await scripts.fetch('q', NODE, 3, true);
    expect(r.status).toBe('ok');
    expect(r.jobs).toEqual([jobB(1), jobB(2), jobB(3)]);
    expect(await server.client.llen(keys.queue('q'))).toBe(2);
    expect(await server.client.lrange(keys.inprogress('q', NODE), 0, -1)).toEqual([job(3), job(2), job(1)]);
    expect(await server.client.smembers(keys.nodeQueues(NODE))).toEqual(['q']);
  });

  it('returns nothing on an empty queue', async () => {
    expect(await scripts.fetch('q', NODE, 10, true)).toEqual({ status: 'ok', jobs: [] });
  });

  it('refuses a node whose heartbeat key is gone and moves nothing', async () => {
    await server.client.lpush(keys.queue('q'), job(1));
    await server.client.del(keys.node(NODE));
    expect((await scripts.fetch('q', NODE, 10, true)).status).toBe('fenced');
    expect(await server.client.llen(keys.queue('q'))).toBe(1);
    expect(await server.client.exists(keys.inprogress('q', NODE))).toBe(0);
  });

  it('fetches nothing from a paused queue', async () => {
    await server.client.lpush(keys.queue('q'), job(1));
    await server.client.sadd(keys.paused, 'q');
    expect((await scripts.fetch('q', NODE, 10, true)).status).toBe('paused');
    expect(await server.client.llen(keys.queue('q'))).toBe(1);
  });
});

describe('ack', () => {
  it('removes exactly the fetched strings and counts them in total and per queue', async () => {
    for (let i = 1; i <= 3; i++) await server.client.lpush(keys.queue('q'), job(i));
    const { jobs } = await scripts.fetch('q', NODE, 3, true);
    expect(await scripts.ack('q', NODE, jobs.slice(0, 2))).toEqual({ removed: 2, alive: true, refill: 'none', missing: [], jobs: [] });
    expect(await server.client.lrange(keys.inprogress('q', NODE), 0, -1)).toEqual([job(3)]);
    expect(await server.client.get('stat:processed')).toBe('2');
    expect(await server.client.get('stat:processed:q')).toBe('2');
  });

  it('refuses a job the node no longer holds and reports whether the node is fenced', async () => {
    await server.client.lpush(keys.queue('q'), job(1));
    const { jobs } = await scripts.fetch('q', NODE, 1, true);
    await server.client.del(keys.inprogress('q', NODE)); // handed back by someone else
    expect(await scripts.ack('q', NODE, jobs)).toMatchObject({ removed: 0, alive: true });
    await server.client.del(keys.node(NODE));
    expect(await scripts.ack('q', NODE, jobs)).toMatchObject({ removed: 0, alive: false });
    expect(await server.client.get('stat:processed')).toBeNull();
  });
});

describe('ack with refill', () => {
  it('acks and fetches the next jobs in one call, oldest first', async () => {
    for (let i = 1; i <= 4; i++) await server.client.lpush(keys.queue('q'), job(i));
    const { jobs } = await scripts.fetch('q', NODE, 1, true);
    expect(await scripts.ack('q', NODE, jobs, 2)).toEqual({ removed: 1, alive: true, refill: 'ok', missing: [], jobs: [jobB(2), jobB(3)] });
    expect(await server.client.lrange(keys.inprogress('q', NODE), 0, -1)).toEqual([job(3), job(2)]);
    expect(await server.client.get('stat:processed')).toBe('1');
  });

  it('refills nothing for a fenced node or a paused queue', async () => {
    for (let i = 1; i <= 3; i++) await server.client.lpush(keys.queue('q'), job(i));
    const { jobs } = await scripts.fetch('q', NODE, 1, true);
    await server.client.sadd(keys.paused, 'q');
    expect(await scripts.ack('q', NODE, jobs, 5)).toEqual({ removed: 1, alive: true, refill: 'paused', missing: [], jobs: [] });
    await server.client.srem(keys.paused, 'q');
    await server.client.del(keys.node(NODE));
    expect(await scripts.ack('q', NODE, [], 5)).toEqual({ removed: 0, alive: false, refill: 'fenced', missing: [], jobs: [] });
    expect(await server.client.llen(keys.queue('q'))).toBe(2);
  });
});

describe('ack by position and hash', () => {
  /** A job of about `n` bytes (past the hash threshold when n ≥ 1 KB). */
  const big = (i: number, n = SCRIPT_BOUNDS.ackByHashFromBytes + 1000) => Buffer.from(JSON.stringify({ class: 'T', args: ['x'.repeat(n)], jid: `big${i}`, queue: 'q' }));
  const held = () => server.client.lrangeBuffer(keys.inprogress('q', NODE), 0, -1);

  it('removes jobs named by length, marker and SHA-1 at their position, with one scan for the batch', async () => {
    for (let i = 1; i <= 5; i++) await server.client.lpush(keys.queue('q'), big(i));
    await scripts.fetch('q', NODE, 5, true);
    // Positions from the tail: big1 is at 1 (fetched first), big3 at 3, big5 at 5.
    const refs = [ackRef(big(1), undefined, 1), ackRef(big(3), undefined, 3), ackRef(big(5), undefined, 5)];
    expect(refs.every((r) => typeof r === 'object' && 'sha1' in r)).toBe(true);
    await server.client.config('RESETSTAT');
    expect(await scripts.ack('q', NODE, refs)).toEqual({ removed: 3, alive: true, refill: 'none', missing: [], jobs: [] });
    expect(await held()).toEqual([big(4), big(2)]);
    expect(await server.client.get('stat:processed')).toBe('3');
    const stats = await server.client.info('commandstats');
    expect(/cmdstat_lrem:calls=(\d+)/.exec(stats)?.[1]).toBe('1');
  });

  it('reports a job not at its position, or of other bytes with the same length and jid, as missing and removes nothing', async () => {
    await server.client.lpush(keys.queue('q'), big(1), big(2));
    await scripts.fetch('q', NODE, 2, true);
    const twin = Buffer.from(big(1).toString().replace('xxx', 'xxy')); // same length, same marker
    const res = await scripts.ack('q', NODE, [ackRef(big(1), undefined, 2), ackRef(twin, undefined, 1)]);
    expect(res).toMatchObject({ removed: 0, missing: [0, 1] });
    expect(await held()).toEqual([big(2), big(1)]);
    // The worker's fallback: by bytes, searched.
    expect(await scripts.ack('q', NODE, [big(1)])).toMatchObject({ removed: 1, missing: [] });
    expect(await held()).toEqual([big(2)]);
  });

  it("a zombie's ack changes nothing: the reaped node's list is gone, by hash and by bytes", async () => {
    await server.client.lpush(keys.queue('q'), big(1));
    await scripts.fetch('q', NODE, 1, true);
    // Reaped: the job is back in its queue and the node's heartbeat is gone.
    await server.client.rpush(keys.queue('q'), ...(await held()));
    await server.client.del(keys.inprogress('q', NODE), keys.node(NODE));
    expect(await scripts.ack('q', NODE, [ackRef(big(1), undefined, 1)])).toMatchObject({ removed: 0, missing: [0] });
    expect(await scripts.ack('q', NODE, [big(1)], 3)).toMatchObject({ removed: 0, alive: false, refill: 'fenced', jobs: [] });
    expect(await server.client.lrangeBuffer(keys.queue('q'), 0, -1)).toEqual([big(1)]);
    expect(await server.client.get('stat:processed')).toBeNull();
  });

  it('acks a payload equal to the tombstone and non-UTF-8 bytes, keeping a held copy of the tombstone', async () => {
    const tomb = Buffer.from(SCRIPT_BOUNDS.tombstone);
    const bin = Buffer.concat([Buffer.from('{"jid":"bin","b":"'), Buffer.alloc(2000, 0xff), Buffer.from('"}')]);
    await server.client.lpush(keys.queue('q'), tomb, bin, tomb);
    await scripts.fetch('q', NODE, 3, true);
    // tail: tomb (1), bin (2), tomb (3). Ack bin by hash and one tomb by bytes: one tomb stays.
    expect(await scripts.ack('q', NODE, [ackRef(bin, undefined, 2), { bytes: tomb, hint: 3 }])).toMatchObject({ removed: 2, missing: [] });
    expect(await held()).toEqual([tomb]);
  });
});

describe('bounds', () => {
  const blob = (i: number, n: number) => JSON.stringify({ class: 'T', args: ['x'.repeat(n)], jid: `b${i}` });

  it('a fetch stops at its byte budget: past it by at most the last job when sizes are even', async () => {
    const n = Math.ceil(SCRIPT_BOUNDS.fetchMaxBytes / 100_000) + 3;
    for (let i = 0; i < n; i++) await server.client.lpush(keys.queue('q'), blob(i, 100_000));
    const r = await scripts.fetch('q', NODE, 100, true);
    const bytes = r.jobs.reduce((t, j) => t + j.length, 0);
    expect(bytes).toBeGreaterThanOrEqual(SCRIPT_BOUNDS.fetchMaxBytes);
    expect(bytes - r.jobs[r.jobs.length - 1].length).toBeLessThan(SCRIPT_BOUNDS.fetchMaxBytes);
    expect(await server.client.llen(keys.queue('q'))).toBe(n - r.jobs.length);
  });

  it("an ack's refill stops at the same budget, and a fetch takes at most fetchMaxJobs jobs", async () => {
    for (let i = 0; i < 10; i++) await server.client.lpush(keys.queue('q'), blob(i, 100_000));
    const first = await scripts.fetch('q', NODE, 1, true);
    const res = await scripts.ack('q', NODE, first.jobs, 9);
    const bytes = res.jobs.reduce((t, j) => t + j.length, 0);
    expect(res.jobs.length).toBeLessThan(9);
    expect(bytes - res.jobs[res.jobs.length - 1].length).toBeLessThan(SCRIPT_BOUNDS.fetchMaxBytes);
    await server.client.del(keys.queue('q'));
    for (let i = 0; i < SCRIPT_BOUNDS.fetchMaxJobs + 10; i += 100) await server.client.lpush(keys.queue('q'), ...Array.from({ length: 100 }, (_, j) => job(i + j)));
    expect((await scripts.fetch('q', NODE, 100_000, false)).jobs.length).toBe(SCRIPT_BOUNDS.fetchMaxJobs);
  });
});

describe('fail', () => {
  const base = { queue: 'q', node: NODE, deadMinScore: 0, deadMaxJobs: 3 };

  it('moves a held job to retry with its score and counts processed and failed', async () => {
    await server.client.lpush(keys.queue('q'), job(1));
    const [raw] = (await scripts.fetch('q', NODE, 1, true)).jobs;
    expect(await scripts.fail({ ...base, raw, mode: 'retry', payload: 'P', score: 123.5 })).toBe('settled');
    expect(await server.client.zrange(keys.retry, 0, -1, 'WITHSCORES')).toEqual(['P', '123.5']);
    expect(await server.client.llen(keys.inprogress('q', NODE))).toBe(0);
    for (const k of ['stat:processed', 'stat:processed:q', 'stat:failed', 'stat:failed:q']) expect(await server.client.get(k)).toBe('1');
  });

  it('trims dead by count and age on every add', async () => {
    for (let i = 1; i <= 5; i++) {
      await server.client.lpush(keys.queue('q'), job(i));
      const [raw] = (await scripts.fetch('q', NODE, 1, true)).jobs;
      await scripts.fail({ ...base, raw, mode: 'dead', payload: `D${i}`, score: 1000 + i, deadMinScore: 1002 });
    }
    expect(await server.client.zrange(keys.dead, 0, -1)).toEqual(['D3', 'D4', 'D5']);
  });

  it('changes nothing for a job the node does not hold: not_held when alive, fenced when fenced', async () => {
    expect(await scripts.fail({ ...base, raw: jobB(9), mode: 'retry', payload: 'P', score: 1 })).toBe('not_held');
    await server.client.del(keys.node(NODE));
    expect(await scripts.fail({ ...base, raw: jobB(9), mode: 'retry', payload: 'P', score: 1 })).toBe('fenced');
    expect(await server.client.zcard(keys.retry)).toBe(0);
    expect(await server.client.get('stat:failed')).toBeNull();
  });

  it('drop removes the job and counts the failure without writing retry or dead', async () => {
    await server.client.lpush(keys.queue('q'), job(1));
    const [raw] = (await scripts.fetch('q', NODE, 1, true)).jobs;
    expect(await scripts.fail({ ...base, raw, mode: 'drop', payload: '', score: 0 })).toBe('settled');
    expect(await server.client.zcard(keys.retry)).toBe(0);
    expect(await server.client.zcard(keys.dead)).toBe(0);
    expect(await server.client.get('stat:failed')).toBe('1');
  });
});

describe('handback', () => {
  it('puts held jobs at the front of the queue in their original order, skipping ones not held', async () => {
    for (let i = 1; i <= 4; i++) await server.client.lpush(keys.queue('q'), job(i));
    const { jobs } = await scripts.fetch('q', NODE, 2, true); // j1, j2
    expect(await scripts.handback('q', NODE, [...jobs].reverse().concat([jobB(99)]))).toBe(2);
    // Next to be fetched (the right end) must be j1, then j2, then j3.
    const next = await scripts.fetch('q', NODE, 3, false);
    expect(next.jobs).toEqual([jobB(1), jobB(2), jobB(3)]);
  });
});

describe('a key of the wrong type: nothing lost, a named error', () => {
  const base = { queue: 'q', node: NODE, deadMinScore: 0, deadMaxJobs: 3 };

  it('fetch into an in-progress key that is not a list puts the jobs back where they were', async () => {
    for (let i = 1; i <= 3; i++) await server.client.lpush(keys.queue('q'), job(i));
    await server.client.set(keys.inprogress('q', NODE), 'x');
    await expect(scripts.fetch('q', NODE, 2, true)).rejects.toThrow(/WRONGTYPE inprogress:q:n1/);
    expect(await server.client.lrange(keys.queue('q'), 0, -1)).toEqual([job(3), job(2), job(1)]);
  });

  it('fail, handback, requeue and promote write nothing and throw WrongTypeError naming the key', async () => {
    await server.client.lpush(keys.queue('q'), job(1), job(2));
    const [raw] = (await scripts.fetch('q', NODE, 1, true)).jobs;
    await server.client.set(keys.retry, 'x');
    await expect(scripts.fail({ ...base, raw, mode: 'retry', payload: 'P', score: 1 })).rejects.toMatchObject({ name: 'WrongTypeError', key: 'retry' });
    await server.client.set(keys.queue('q'), 'x');
    await expect(scripts.handback('q', NODE, [raw])).rejects.toMatchObject({ name: 'WrongTypeError', key: 'queue:q' });
    expect(await server.client.lrangeBuffer(keys.inprogress('q', NODE), 0, -1)).toEqual([raw]);
    await server.client.zadd(keys.dead, 1, 'D');
    await expect(scripts.requeue('dead', 'D', 'D', 'q')).rejects.toMatchObject({ key: 'queue:q' });
    await server.client.zadd(keys.schedule, 1, 'S1', 2, 'S2');
    await expect(
      scripts.promote('schedule', 5, [
        { member: Buffer.from('S1'), payload: 'S1', queue: 'ok' },
        { member: Buffer.from('S2'), payload: 'S2', queue: 'q' },
      ]),
    ).rejects.toMatchObject({ key: 'queue:q' });
    expect(await server.client.zrange(keys.schedule, 0, -1)).toEqual(['S1', 'S2']);
    expect(await server.client.exists(keys.queue('ok'))).toBe(0);
    expect(await server.client.zrange(keys.dead, 0, -1)).toEqual(['D']);
    for (const k of ['stat:failed', 'stat:processed']) expect(await server.client.get(k)).toBeNull();
  });

  it('a counter that is not an integer does not stop a failed job from being settled', async () => {
    await server.client.lpush(keys.queue('q'), job(1));
    const [raw] = (await scripts.fetch('q', NODE, 1, true)).jobs;
    await server.client.set('stat:failed', 'not a number');
    expect(await scripts.fail({ ...base, raw, mode: 'dead', payload: 'D', score: 10 })).toBe('settled');
    expect(await server.client.zrange(keys.dead, 0, -1)).toEqual(['D']);
    expect(await server.client.llen(keys.inprogress('q', NODE))).toBe(0);
  });
});

describe('out of memory (maxmemory reached, noeviction): a refused first write changes nothing', () => {
  it('fail and handback keep the job in progress; fetch still drains the queue', async () => {
    const base = { queue: 'q', node: NODE, deadMinScore: 0, deadMaxJobs: 3 };
    await server.client.lpush(keys.queue('q'), job(1), job(2), job(3));
    const [raw] = (await scripts.fetch('q', NODE, 1, true)).jobs;
    await server.client.config('SET', 'maxmemory', '1');
    try {
      await expect(scripts.fail({ ...base, raw, mode: 'retry', payload: 'P', score: 1 })).rejects.toThrow(/OOM/);
      await expect(scripts.handback('q', NODE, [raw])).rejects.toThrow(/OOM/);
      expect(await server.client.lrangeBuffer(keys.inprogress('q', NODE), 0, -1)).toEqual([raw]);
      expect(await server.client.zcard(keys.retry)).toBe(0);
      expect((await scripts.fetch('q', NODE, 1, false)).jobs).toEqual([jobB(2)]);
    } finally {
      await server.client.config('SET', 'maxmemory', '0');
    }
  });
});
