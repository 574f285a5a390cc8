// Unique jobs against a real redis-server (docs/unique-jobs.md): every transition of a lock, one
// script call each. Enqueue twice → one job and the owner's jid; started/done/retry/dead/drop/
// kill/delete/reap/pill/zombie ack/requeue; the sweeper releases an orphan and never a live
// owner; an ack of jobs without a lock sends the very arguments it sent before.
import { beforeAll, describe, expect, it } from 'vitest';
import { useScriptsServer } from '../helpers/scripts-server.js';
import { testConfig } from '../helpers/config.js';
import { Client } from '../../src/api/client.js';
import { decodeJob } from '../../src/job/codec.js';
import { reapOptions } from '../../src/redis/reap-options.js';
import type { UniqueOption } from '../../src/job/unique.js';

const NODE = 'n1';
const ctx = useScriptsServer(async ({ scripts }) => {
  await scripts.register(NODE, 60_000, 60_000, { host: 'test' });
});
const keys = ctx.keys;
let client: Client;
beforeAll(() => {
  client = new Client({ redis: ctx.server.client });
});

const done: UniqueOption = { key: (args) => `account:${String(args[0])}`, until: 'done' };
const lockOf = (account: number) => ctx.server.client.get(keys.unique(`account:${account}`));
const enqueue = (account: number, unique: UniqueOption = done, at?: number) => client.push({ class: 'Reports.Rebuild', args: [account], queue: 'q', unique }, at);
/** Fetches everything from q into NODE's in-progress list; the payloads and their locks. */
async function fetchAll() {
  const { jobs } = await ctx.scripts.fetch('q', NODE, 10, true);
  return jobs.map((raw) => {
    const d = decodeJob(raw);
    if (!d.ok) throw new Error(d.error);
    return { raw, jid: d.job.jid, lock: d.job.unique ? { key: d.job.unique.key, jid: d.job.jid } : undefined };
  });
}
const failArgs = (raw: Buffer, mode: 'retry' | 'dead' | 'drop', lock?: { key: string; jid: string }) => ({
  queue: 'q',
  node: NODE,
  raw,
  mode,
  payload: raw,
  score: 2_000_000_000.25,
  deadMinScore: 0,
  deadMaxJobs: 100,
  unique: lock,
});

describe('enqueue', () => {
  it('enqueues once while the owner exists and returns the owner jid to the duplicate', async () => {
    const a = await enqueue(1);
    const b = await enqueue(1);
    expect(a.enqueued).toBe(true);
    expect(b).toEqual({ jid: a.jid, enqueued: false });
    expect(await ctx.server.client.llen(keys.queue('q'))).toBe(1);
    expect(await lockOf(1)).toBe(a.jid);
    expect(client.refusedDuplicates).toBe(1);
    // Another key is another lock.
    expect((await enqueue(2)).enqueued).toBe(true);
    const info = JSON.parse((await ctx.server.client.hget(keys.uniquesInfo, 'account:1'))!);
    expect(info).toMatchObject({ jid: a.jid, queue: 'q', until: 'done' });
    expect(typeof info.since).toBe('number');
    // The payload carries its lock; Client#enqueue returns the owner's jid too.
    expect(JSON.parse((await ctx.server.client.lindex(keys.queue('q'), -1))!).verk_unique).toEqual({ key: 'account:1', until: 'done' });
    expect(await client.enqueue({ class: 'Reports.Rebuild', args: [1], queue: 'q', unique: done })).toBe(a.jid);
  });

  it('a declarative path is prefixed with the class; enqueueAt puts the owner in schedule with its score remembered', async () => {
    const at = Date.now() + 60_000;
    const r = await client.push({ class: 'Reports.Rebuild', args: [{ account: 7 }], unique: { key: 'args[0].account' } }, at);
    expect(r.enqueued).toBe(true);
    expect(await ctx.server.client.get(keys.unique('Reports.Rebuild:args[0].account=7'))).toBe(r.jid);
    expect(await ctx.server.client.zcard(keys.schedule)).toBe(1);
    const info = JSON.parse((await ctx.server.client.hget(keys.uniquesInfo, 'Reports.Rebuild:args[0].account=7'))!);
    expect(info).toMatchObject({ at: 'schedule', score: String(at / 1000) });
    expect((await client.push({ class: 'Reports.Rebuild', args: [{ account: 7 }], unique: { key: 'args[0].account' } })).enqueued).toBe(false);
  });

  it('bad options and bad keys throw an Error naming the class and enqueue nothing', async () => {
    const bad: [UniqueOption, RegExp][] = [
      [{ key: () => 42 } as unknown as UniqueOption, /Reports.Rebuild: options.unique.key must return a string, got a number/],
      [{ key: () => '' }, /Reports.Rebuild: options.unique.key gave an empty string/],
      [
        {
          key: () => {
            throw new Error('no account');
          },
        },
        /Reports.Rebuild: options.unique.key threw: no account/,
      ],
      [{ key: 'args[3]' }, /Reports.Rebuild: options.unique.key args\[3\] is undefined/],
      [{ key: 'account' }, /is not a path into the args/],
      [{ key: 'args[0]', until: 'finished' } as unknown as UniqueOption, /options.unique.until "finished" must be 'started', 'done' or \{ ttl: '10m' \}/],
      [{ key: 'args[0]', until: { ttl: 'soon' } }, /options.unique.until.ttl: "soon" is not a duration/],
    ];
    const before = await ctx.server.client.dbsize(); // the node's registration only
    for (const [opt, msg] of bad) await expect(enqueue(1, opt)).rejects.toThrow(msg);
    expect(await ctx.server.client.dbsize()).toBe(before);
  });

  it('a lock key of another type is refused with WrongTypeError, nothing written', async () => {
    await ctx.server.client.rpush(keys.unique('account:5'), 'x');
    await expect(enqueue(5)).rejects.toThrow(`enqueueUnique: key ${keys.unique('account:5')} holds the wrong type of value; nothing was changed`);
    expect(await ctx.server.client.llen(keys.queue('q'))).toBe(0);
  });

  it('a ttl lock expires by itself and is not released when its job is done', async () => {
    const r = await enqueue(3, { key: (a) => `account:${String(a[0])}`, until: { ttl: '400ms' } });
    const [job] = await fetchAll();
    expect(job.lock).toBeDefined();
    // The worker sends no lock for a ttl job (RunningEntry.unique is unset): even if one were sent, ttl stays.
    expect((await ctx.scripts.ack('q', NODE, [job.raw])).removed).toBe(1);
    expect(await lockOf(3)).toBe(r.jid);
    expect(await ctx.server.client.pttl(keys.unique('account:3'))).toBeGreaterThan(0);
    expect((await enqueue(3, { key: (a) => `account:${String(a[0])}`, until: { ttl: '400ms' } })).enqueued).toBe(false);
    const deadline = Date.now() + 5_000;
    while ((await lockOf(3)) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await enqueue(3, { key: (a) => `account:${String(a[0])}`, until: { ttl: '400ms' } })).enqueued).toBe(true);
  });
});

describe('the scripts that move a job', () => {
  it('done: the ack releases the lock of the job it removed; a new enqueue then gets a new jid', async () => {
    const a = await enqueue(1);
    const [job] = await fetchAll();
    expect(await lockOf(1)).toBe(a.jid);
    expect((await enqueue(1)).jid).toBe(a.jid); // in progress: still the owner
    expect((await ctx.scripts.ack('q', NODE, [job.raw], 0, { locks: [job.lock] })).removed).toBe(1);
    expect(await lockOf(1)).toBeNull();
    expect(await ctx.server.client.zscore(keys.uniques, 'account:1')).toBeNull();
    expect(await ctx.server.client.hget(keys.uniquesInfo, 'account:1')).toBeNull();
    const b = await enqueue(1);
    expect(b.enqueued).toBe(true);
    expect(b.jid).not.toBe(a.jid);
  });

  it('done, acked by position and by hash in a batch with other jobs: only the locked jobs release, each its own lock', async () => {
    const a = await enqueue(1);
    await client.enqueue({ class: 'Plain', args: [], queue: 'q' });
    const b = await enqueue(2);
    const jobs = await fetchAll();
    const refs = jobs.map((j, i) => ({ bytes: j.raw, hint: jobs.length - i }));
    // A lock named for a job of another jid never releases (compare-and-delete).
    const locks = jobs.map((j) => j.lock);
    expect((await ctx.scripts.ack('q', NODE, refs, 0, { locks })).removed).toBe(3);
    expect(await lockOf(1)).toBeNull();
    expect(await lockOf(2)).toBeNull();
    expect([a.enqueued, b.enqueued]).toEqual([true, true]);
  });

  it('zombie: a late ack of a job the node no longer holds releases nothing', async () => {
    const a = await enqueue(1);
    const [job] = await fetchAll();
    // The node is reaped (its heartbeat gone): the job goes back to the queue with its lock.
    await ctx.server.client.del(keys.node(NODE));
    const r = await ctx.scripts.reapAll(reapOptions(testConfig(), NODE, 'test'));
    expect(r.moved).toBe(1);
    expect(await lockOf(1)).toBe(a.jid);
    expect((await ctx.scripts.ack('q', NODE, [job.raw], 0, { locks: [job.lock] })).removed).toBe(0);
    expect(await lockOf(1)).toBe(a.jid);
    expect((await enqueue(1)).enqueued).toBe(false);
  });

  it('started: released as the handler starts, only while this node holds the job', async () => {
    const started: UniqueOption = { key: (a) => `account:${String(a[0])}`, until: 'started' };
    const a = await enqueue(1, started);
    const [job] = await fetchAll();
    expect(await ctx.scripts.uniqueStart('q', 'other-node', job.raw, job.lock!)).toBe('not_held');
    expect(await lockOf(1)).toBe(a.jid);
    expect(await ctx.scripts.uniqueStart('q', NODE, job.raw, job.lock!)).toBe('released');
    expect(await lockOf(1)).toBeNull();
    // A second job may be enqueued while the first runs; the first one's ack leaves it alone.
    const b = await enqueue(1, started);
    expect(b.enqueued).toBe(true);
    expect((await ctx.scripts.ack('q', NODE, [job.raw], 0, { locks: [job.lock] })).removed).toBe(1);
    expect(await lockOf(1)).toBe(b.jid);
    expect(await ctx.scripts.uniqueStart('q', NODE, job.raw, job.lock!)).toBe('not_held');
  });

  it('retry keeps the lock and remembers where the job waits; dead and drop release it', async () => {
    const a = await enqueue(1);
    const [j1] = await fetchAll();
    expect(await ctx.scripts.fail(failArgs(j1.raw, 'retry', j1.lock))).toBe('settled');
    expect(await lockOf(1)).toBe(a.jid);
    expect(JSON.parse((await ctx.server.client.hget(keys.uniquesInfo, 'account:1'))!)).toMatchObject({ at: 'retry', score: '2000000000.25' });
    expect((await enqueue(1)).enqueued).toBe(false);

    const b = await enqueue(2);
    const [j2] = await fetchAll();
    expect(await ctx.scripts.fail(failArgs(j2.raw, 'dead', j2.lock))).toBe('settled');
    expect(await lockOf(2)).toBeNull();
    expect(b.enqueued).toBe(true);

    await enqueue(3);
    const [j3] = await fetchAll();
    expect(await ctx.scripts.fail(failArgs(j3.raw, 'drop', j3.lock))).toBe('settled');
    expect(await lockOf(3)).toBeNull();
    // A failure the node cannot settle (not held) releases nothing.
    const c = await enqueue(4);
    const [j4] = await fetchAll();
    await ctx.server.client.del(keys.inprogress('q', NODE));
    expect(await ctx.scripts.fail(failArgs(j4.raw, 'dead', j4.lock))).toBe('not_held');
    expect(await lockOf(4)).toBe(c.jid);
  });

  it('kill (retry → dead) releases; a requeue from dead takes the lock again when free and is refused while another job holds it', async () => {
    const a = await enqueue(1);
    const [j] = await fetchAll();
    await ctx.scripts.fail(failArgs(j.raw, 'retry', j.lock));
    expect(await ctx.scripts.kill('retry', j.raw, 1, 0, 100, true)).toBe('moved');
    expect(await lockOf(1)).toBeNull();
    expect(await ctx.server.client.zcard(keys.dead)).toBe(1);
    // Free: the requeue takes it.
    expect(await ctx.scripts.requeue('dead', j.raw, j.raw, 'q', j.lock)).toBe('moved');
    expect(await lockOf(1)).toBe(a.jid);
    // Held by another job: refused, nothing written.
    const [again] = await fetchAll();
    await ctx.scripts.fail(failArgs(again.raw, 'dead', again.lock));
    const b = await enqueue(1);
    expect(b.enqueued).toBe(true);
    expect(await ctx.scripts.requeue('dead', again.raw, again.raw, 'q', again.lock)).toEqual({ locked: b.jid });
    expect(await ctx.server.client.zcard(keys.dead)).toBe(1);
    expect(await ctx.server.client.llen(keys.queue('q'))).toBe(1);
  });

  it('delete by hand from a queue or a sorted set releases; the same member gone already releases nothing', async () => {
    const a = await enqueue(1);
    const raw = (await ctx.server.client.lindexBuffer(keys.queue('q'), 0))!;
    expect(await ctx.scripts.uniqueDrop(keys.queue('q'), raw)).toEqual({ removed: 1, released: true });
    expect(await lockOf(1)).toBeNull();
    expect(a.enqueued).toBe(true);
    const b = await enqueue(2, done, Date.now() + 60_000);
    const member = (await ctx.server.client.zrangeBuffer(keys.schedule, 0, 0))[0];
    // Someone else holds the lock meanwhile (it was swept, then taken): the delete leaves it alone.
    await ctx.server.client.set(keys.unique('account:2'), 'someone-else');
    expect(await ctx.scripts.uniqueDrop(keys.schedule, member)).toEqual({ removed: 1, released: false });
    expect(await ctx.server.client.get(keys.unique('account:2'))).toBe('someone-else');
    expect(await ctx.scripts.uniqueDrop(keys.schedule, member)).toEqual({ removed: 0, released: false });
    expect(b.enqueued).toBe(true);
  });

  it('reap keeps the lock of a job it hands back; a poison pill it sends to dead releases', async () => {
    const a = await enqueue(1);
    const b = await enqueue(2);
    const jobs = await fetchAll();
    await ctx.server.client.del(keys.node(NODE));
    // Job of account 2 had started and is past maxRecoveries 0: a pill.
    const r = await ctx.scripts.reapAll({ ...reapOptions(testConfig({ maxRecoveries: 0 }), NODE, 'test'), startedIds: [jobs[1].jid] });
    expect([r.moved, r.buried]).toEqual([1, 1]);
    expect(await lockOf(1)).toBe(a.jid);
    expect(await lockOf(2)).toBeNull();
    expect(b.enqueued).toBe(true);
  });
});

describe('the sweeper', () => {
  it('releases a lock whose job exists nowhere, records it, and keeps every live owner', async () => {
    // Owners in: the queue, this node's in-progress list, retry (by the hint), schedule, a claim list.
    const inQueue = await enqueue(1);
    const running = await enqueue(2);
    await fetchAll(); // takes both
    await client.push({ class: 'Reports.Rebuild', args: [1], queue: 'q', unique: done }); // refused, account 1 still in progress
    const q2 = await enqueue(3);
    const retried = await enqueue(4);
    // account 4 to retry (by a failure), account 3 stays queued.
    const fetched = await fetchAll();
    const four = fetched.find((j) => j.jid === retried.jid)!;
    const three = fetched.find((j) => j.jid === q2.jid)!;
    await ctx.scripts.fail(failArgs(four.raw, 'retry', four.lock));
    await ctx.scripts.handback('q', NODE, [three.raw]);
    const scheduled = await enqueue(5, done, Date.now() + 60_000);
    const claimed = await enqueue(6);
    await ctx.server.client.lmove(keys.queue('q'), keys.nodeClaim(NODE, 'q'), 'RIGHT', 'LEFT'); // account 6 (the oldest left)
    // The orphan: deleted by something that is not verk (a raw LREM), its lock left behind.
    const orphan = await enqueue(7);
    const raw7 = (await ctx.server.client.lindex(keys.queue('q'), 0))!;
    expect(JSON.parse(raw7).jid).toBe(orphan.jid);
    await ctx.server.client.lrem(keys.queue('q'), 0, raw7);

    const r = await ctx.scripts.uniqueSweep(0, 'test');
    expect(r.released).toEqual([{ key: 'account:7', jid: orphan.jid }]);
    expect(r.looked).toBe(7);
    expect(r.alive).toBe(6);
    for (const [n, owner] of [
      [1, inQueue],
      [2, running],
      [3, q2],
      [4, retried],
      [5, scheduled],
      [6, claimed],
    ] as const)
      expect(await lockOf(n), `account ${n}`).toBe(owner.jid);
    expect(await lockOf(7)).toBeNull();
    const history = (await ctx.server.client.lrange(keys.uniquesReleased, 0, -1)).map((e) => JSON.parse(e));
    expect(history).toMatchObject([{ key: 'account:7', jid: orphan.jid, queue: 'q', by: 'test' }]);
    expect(await ctx.server.client.get(keys.uniqueSwept)).toBe('1');
    // A lock younger than the grace is not looked at; one the sweeper found alive is looked at a grace later.
    expect((await ctx.scripts.uniqueSweep(60_000, 'test')).looked).toBe(0);
  });

  it('keeps a lock it cannot tell about (a queue longer than its search budget, in elements or bytes) and cleans up after expired ttl locks', async () => {
    const a = await enqueue(1);
    const filler = Array.from({ length: 6_000 }, (_, i) => JSON.stringify({ class: 'Plain', args: [i], jid: `f${i}`, queue: 'q' }));
    await ctx.server.client.lpush(keys.queue('q'), ...filler); // the owner is behind 6 000 jobs
    const r = await ctx.scripts.uniqueSweep(0, 'test');
    expect(r).toMatchObject({ looked: 1, released: [], unknown: 1 });
    expect(await lockOf(1)).toBe(a.jid);
    // Fewer jobs than the element budget but more bytes than the byte budget (4 MiB): cannot tell either.
    await ctx.server.client.del(keys.queue('q'));
    const big = await enqueue(2);
    const blob = 'x'.repeat(20_000);
    await ctx.server.client.lpush(keys.queue('q'), ...Array.from({ length: 300 }, (_, i) => JSON.stringify({ class: 'Plain', args: [blob], jid: `b${i}`, queue: 'q' })));
    // The first lock looked at (account:1, its owner now gone with the queue) reads 4 MiB and cannot
    // tell; the call's byte budget is spent, so account:2 waits for the next call. Nothing released.
    expect(await ctx.scripts.uniqueSweep(0, 'test')).toMatchObject({ looked: 1, released: [], unknown: 1 });
    expect(await lockOf(1)).toBe(a.jid);
    expect(await lockOf(2)).toBe(big.jid);
    await ctx.server.client.del(keys.unique('account:2'));
    await ctx.server.client.del(keys.unique('account:1')); // gone (an expired ttl lock looks the same)
    expect(await ctx.scripts.uniqueSweep(0, 'test')).toMatchObject({ looked: 2, cleaned: 2, released: [] });
    expect(await ctx.server.client.zcard(keys.uniques)).toBe(0);
  });

  it('why: holder, where it is (queue, in progress on a node, retry, dead, nowhere) and since when', async () => {
    const a = await enqueue(1);
    expect(await ctx.scripts.uniqueWhy('account:1')).toMatchObject({ holder: a.jid, where: 'queue', info: { queue: 'q', until: 'done' } });
    const [j] = await fetchAll();
    expect(await ctx.scripts.uniqueWhy('account:1')).toMatchObject({ where: 'inprogress', node: NODE });
    await ctx.scripts.fail(failArgs(j.raw, 'retry', j.lock));
    expect(await ctx.scripts.uniqueWhy('account:1')).toMatchObject({ where: 'retry' });
    await ctx.server.client.zrem(keys.retry, j.raw);
    await ctx.server.client.zadd(keys.dead, 1, j.raw);
    expect(await ctx.scripts.uniqueWhy('account:1')).toMatchObject({ where: 'dead' });
    expect(await ctx.scripts.uniqueWhy('account:9')).toMatchObject({ holder: null, where: 'nowhere' });
  });
});

describe('the hot path', () => {
  it('an ack of jobs without a lock sends the same command and arguments as before (no tail)', async () => {
    await client.enqueue({ class: 'Plain', args: [], queue: 'q' });
    const { jobs } = await ctx.scripts.fetch('q', NODE, 1, true);
    const monitor = await ctx.server.client.duplicate().monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_t: string, args: string[]) => seen.push(args));
    await ctx.scripts.ack('q', NODE, [jobs[0]], 0, { locks: [undefined] });
    await new Promise((r) => setTimeout(r, 100));
    monitor.disconnect();
    const evals = seen.filter((a) => /^eval/i.test(a[0]));
    expect(evals).toHaveLength(1);
    // EVALSHA sha numkeys, 6 KEYS, then refill, queue, budget, tombstone, spec, payload: 3 + 6 + 6 = 15 arguments.
    expect(evals[0]).toHaveLength(15);
    expect(evals[0][14]).toBe(jobs[0].toString());
  });
});
