// Cluster-wide limits against a real redis-server (docs/limits.md): a full key's jobs are parked
// once and never re-scanned (Redis command counts from INFO commandstats), per-key FIFO, another
// key behind 10 000 parked jobs still runs, the ack/fail/hand-back release exactly the slot of
// the job they removed, a zombie's late ack releases nothing, the reaper frees a dead node's
// slots in the call that deregisters it, a 5/sec rate never starts more than 5 in any second
// (Redis TIME), and the audit fixes a corrupted count.
import { beforeAll, describe, expect, it } from 'vitest';
import { useScriptsServer } from '../helpers/scripts-server.js';
import { Scripts } from '../../src/redis/scripts.js';
import { parseLimits } from '../../src/config/limits.js';
import { payloadIdentity } from '../../src/job/identity.js';
import type { RedisServer } from '../helpers/redis-server.js';

const A = 'node-a';
const B = 'node-b';
const Q = 'api';

const ctx = useScriptsServer(async ({ scripts }) => {
  await scripts.register(A, 10_000, 60_000, { host: 'test' });
  await scripts.register(B, 10_000, 60_000, { host: 'test' });
});
const keys = ctx.keys;
let server: RedisServer;
let lim: Scripts;
const fail = (why: string): never => {
  throw new Error(why);
};
const limitsOf = (o: unknown) => parseLimits(o, fail);

beforeAll(() => {
  server = ctx.server;
  lim = new Scripts(server.client, keys, undefined, limitsOf({ [Q]: { key: 'args[0].account', concurrency: 2 }, rated: { key: 'args[0].account', rate: '5/sec' } }));
});

let seq = 0;
const job = (account: unknown, n = ++seq, queue = Q) => JSON.stringify({ class: 'T', args: [{ account, n }], jid: `j${n}`, queue });
const push = (...payloads: string[]) => server.client.lpush(keys.queue(Q), ...payloads);
const held = (key: string, q = Q) => server.client.hget(`verk:limit:${q}:held`, key).then((v) => Number(v ?? 0));
const parked = (key: string, q = Q) => server.client.lrange(`verk:limit:${q}:parked:${key}`, 0, -1);
const nOf = (raw: Buffer | string) => (JSON.parse(raw.toString()) as { args: [{ n: number }] }).args[0].n;
const ack = (node: string, raws: Buffer[], refill = 0, scripts = lim) =>
  scripts.ack(
    Q,
    node,
    raws.map((r) => ({ bytes: r, hint: 0 })),
    refill,
    { ids: raws.map((r) => payloadIdentity(r)) },
  );

describe('the take', () => {
  it('takes a key up to its concurrency and parks the rest once, in order', async () => {
    const jobs = [job('x'), job('x'), job('x'), job('y'), job('x')];
    await push(...jobs);
    const r = await lim.fetch(Q, A, 10, true);
    expect(r.jobs.map(nOf)).toEqual([1, 2, 4].map((i) => nOf(jobs[i - 1])));
    expect(await held('x')).toBe(2);
    expect(await held('y')).toBe(1);
    expect((await parked('x')).map(nOf)).toEqual([nOf(jobs[4]), nOf(jobs[2])]); // newest at the head, oldest at the fetch end
    expect(await server.client.llen(keys.queue(Q))).toBe(0);
    expect(await server.client.zscore(`verk:limit:${Q}:ready`, 'x')).toBeNull(); // full: a release makes it due
    expect(await server.client.smembers(`verk:limit:${Q}:keys`)).toEqual(['x']);
    const slots = await server.client.hgetall(`${keys.node(A)}:slots`);
    expect(Object.values(slots).sort()).toEqual(['x', 'x', 'y']);
  });

  it('an ack releases its slot and its refill starts the key’s oldest parked job first (per-key FIFO)', async () => {
    const jobs = [job('x'), job('x'), job('x'), job('x')];
    await push(...jobs);
    const first = await lim.fetch(Q, A, 10, true);
    expect(first.jobs.map(nOf)).toEqual([nOf(jobs[0]), nOf(jobs[1])]);
    await push(job('z'));
    const r = await ack(A, [first.jobs[0]], 5);
    expect(r.removed).toBe(1);
    // x's third job (oldest parked), then z from the queue; x's fourth stays parked (x is full again).
    expect(r.jobs.map(nOf)).toEqual([nOf(jobs[2]), seq]);
    expect(await held('x')).toBe(2);
    expect((await parked('x')).map(nOf)).toEqual([nOf(jobs[3])]);
  });

  it('a job without the key path is limited under "-", a payload that is not a JSON object is taken without a slot', async () => {
    const noKey = JSON.stringify({ class: 'T', args: [], jid: 'nokey' });
    const boolKey = job(true);
    await push(noKey, boolKey, 'not json', '[1,2]', JSON.stringify({ class: 'T', args: [{ account: 'a\tb'.repeat(100) }], jid: 'long' }));
    const r = await lim.fetch(Q, A, 10, true);
    expect(r.jobs).toHaveLength(5);
    expect(await held('-')).toBe(2);
    const slotKeys = Object.values(await server.client.hgetall(`${keys.node(A)}:slots`));
    expect(slotKeys.filter((k) => k.startsWith('sha1:'))).toHaveLength(1);
    expect(slotKeys).toHaveLength(3); // 'not json' and '[1,2]' hold no slot
    expect(r.jobs.map(String)).toEqual(expect.arrayContaining(['not json', '[1,2]']));
  });

  it('a full key with 10 000 parked jobs is not re-scanned: idle fetches cost the same few commands, and another key still runs', async () => {
    const backlog = Array.from({ length: 10_000 }, () => job('hot'));
    for (let i = 0; i < backlog.length; i += 1000) await push(...backlog.slice(i, i + 1000));
    let calls = 0;
    let taken = 0;
    for (;;) {
      const r = await lim.fetch(Q, A, 10, calls === 0);
      calls++;
      taken += r.jobs.length;
      if (!r.more && r.jobs.length === 0) break;
      expect(calls).toBeLessThan(200);
    }
    expect(taken).toBe(2);
    expect((await parked('hot')).length).toBe(9_998);
    console.log(`[measured] parking 9998 jobs of a full key took ${calls} fetch calls (at most 200 parked per call)`);
    await server.client.config('RESETSTAT');
    for (let i = 0; i < 100; i++) expect((await lim.fetch(Q, A, 10, false)).jobs).toHaveLength(0);
    const stats = await server.client.info('commandstats');
    const count = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    const listOps = count('rpop') + count('lpush') + count('lrange') + count('lindex');
    const total = [...stats.matchAll(/cmdstat_[a-z|]+:calls=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    console.log(
      `[measured] 100 fetches of a queue whose only key is full with 9998 parked: ${total} Redis commands (${(total / 100).toFixed(1)} per fetch), ${listOps} list reads/writes`,
    );
    expect(total / 100).toBeLessThan(20);
    expect(count('rpop')).toBeLessThanOrEqual(100); // one empty RPOP of the queue per call, no parked job touched
    // Another key, pushed behind the backlog, runs at once.
    await push(job('cold'));
    const r = await lim.fetch(Q, A, 10, false);
    expect(r.jobs.map((b) => JSON.parse(b.toString()).args[0].account)).toEqual(['cold']);
  });
});

/** A reaper on B reaps the dead node A, `batch` jobs per call. */
const reapA = (batch: number) =>
  lim.reap({
    node: A,
    by: B,
    batch,
    maxRecoveries: 3,
    recoveryWindowMs: 60_000,
    isolateFrom: 2,
    force: false,
    countRecoveries: true,
    historyLength: 10,
    deadTimeoutS: 100,
    deadMaxJobs: 10,
  });

describe('releases', () => {
  it('fail (retry) and hand-back release the slot of the job they removed, and only once', async () => {
    await push(job('k'), job('k'), job('k'));
    const r = await lim.fetch(Q, A, 10, true);
    expect(await held('k')).toBe(2);
    const res = await lim.fail({ queue: Q, node: A, raw: r.jobs[0], mode: 'retry', payload: r.jobs[0], score: 1, deadMinScore: 0, deadMaxJobs: 10 });
    expect(res).toBe('settled');
    expect(await held('k')).toBe(1);
    expect(await server.client.zscore(`verk:limit:${Q}:ready`, 'k')).not.toBeNull(); // due: it has a parked job and a free slot
    // The same failure again (a retried write): not held, nothing released.
    expect(await lim.fail({ queue: Q, node: A, raw: r.jobs[0], mode: 'retry', payload: r.jobs[0], score: 1, deadMinScore: 0, deadMaxJobs: 10 })).toBe('not_held');
    expect(await held('k')).toBe(1);
    expect(await lim.handback(Q, A, [r.jobs[1]])).toBe(1);
    expect(await held('k')).toBe(0);
    expect(await lim.handback(Q, A, [r.jobs[1]])).toBe(0);
    expect(await held('k')).toBe(0);
    expect(await server.client.hlen(`${keys.node(A)}:slots`)).toBe(0);
  });

  it("a zombie's late ack releases nothing: its job was reaped and is held by another node", async () => {
    await push(job('z'));
    const a = await lim.fetch(Q, A, 10, true);
    expect(await held('z')).toBe(1);
    // A freezes: its heartbeat key expires, a reaper hands its job back and frees its slot.
    await server.client.del(keys.node(A));
    const reaped = await reapA(100);
    expect(reaped.status).toBe('reaped');
    expect(await held('z')).toBe(0);
    const b = await lim.fetch(Q, B, 10, true);
    expect(b.jobs).toHaveLength(1);
    expect(await held('z')).toBe(1);
    // A wakes and acks its copy: nothing removed, nothing released; B's slot stands.
    const late = await ack(A, a.jobs);
    expect(late.removed).toBe(0);
    expect(await held('z')).toBe(1);
    expect(Object.values(await server.client.hgetall(`${keys.node(B)}:slots`))).toEqual(['z']);
  });

  it('the reaper frees every slot of a dead node in the call that deregisters it, and makes the keys due', async () => {
    const jobs = Array.from({ length: 6 }, (_, i) => job(i % 2 ? 'p' : 'q'));
    await push(...jobs);
    await lim.fetch(Q, A, 10, true);
    expect([await held('p'), await held('q')]).toEqual([2, 2]);
    await server.client.del(keys.node(A));
    // One batch of 1 job: the node is deregistered by it, and all four slots go with it.
    const r = await reapA(1);
    expect(r.moved).toBe(1);
    expect(r.remaining).toBe(3);
    expect(await server.client.sismember(keys.nodes, A)).toBe(0);
    expect([await held('p'), await held('q')]).toEqual([0, 0]);
    expect(await server.client.exists(`${keys.node(A)}:slots`)).toBe(0);
    expect((await server.client.zrange(`verk:limit:${Q}:ready`, 0, -1)).sort()).toEqual(['p', 'q']);
  });
});

describe('rate', () => {
  it('5/sec never starts more than 5 jobs of a key in any 1 s window (Redis TIME)', async () => {
    const rq = 'rated';
    for (let i = 0; i < 16; i++) await server.client.lpush(keys.queue(rq), job('r', undefined, rq));
    const starts: number[] = [];
    const deadline = Date.now() + 10_000;
    let fetched = 0;
    let waits = 0;
    while (fetched < 16 && Date.now() < deadline) {
      const r = await lim.fetch(rq, A, 10, fetched === 0);
      const [s, us] = (await server.client.time()) as unknown as [string, string];
      for (const _ of r.jobs) starts.push(Number(s) * 1000 + Math.floor(Number(us) / 1000));
      fetched += r.jobs.length;
      if (r.jobs.length) {
        await lim.ack(
          rq,
          A,
          r.jobs.map((b) => ({ bytes: b, hint: 0 })),
          0,
          { ids: r.jobs.map((b) => payloadIdentity(b)) },
        );
      } else {
        // The fetch says when the window reopens: wait that long, not a guess.
        expect(r.waitMs ?? -1).toBeGreaterThanOrEqual(0);
        waits++;
        await new Promise((res) => setTimeout(res, Math.max(5, r.waitMs ?? 0)));
      }
    }
    expect(fetched).toBe(16);
    let worst = 0;
    for (let i = 0; i < starts.length; i++) worst = Math.max(worst, starts.filter((t) => t >= starts[i] && t < starts[i] + 1000).length);
    console.log(`[measured] rate 5/sec: 16 jobs started over ${starts.at(-1)! - starts[0]} ms, at most ${worst} in any 1 s window, ${waits} waits`);
    expect(worst).toBeLessThanOrEqual(5);
    expect(starts.at(-1)! - starts[0]).toBeGreaterThanOrEqual(3000 - 50);
  });
});

describe('the audit', () => {
  it('fixes a held count that disagrees with the slot records, and re-readies a stalled key; then finds nothing', async () => {
    await push(job('c'), job('c'), job('c'));
    await lim.fetch(Q, A, 10, true);
    await server.client.hset(`verk:limit:${Q}:held`, 'c', 7, 'ghost', 3);
    const r = await lim.limitAudit();
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.fixes).toEqual(
      expect.arrayContaining([
        { queue: Q, key: 'c', what: 'held', was: 7, now: 2 },
        { queue: Q, key: 'ghost', what: 'held', was: 3, now: 0 },
      ]),
    );
    expect(await held('c')).toBe(2);
    // A key left with parked jobs, room and no ready entry (a raised concurrency) is made due.
    await server.client.hset(`verk:limit:${Q}:held`, 'c', 2);
    await server.client.hdel(`${keys.node(A)}:slots`, (await server.client.hkeys(`${keys.node(A)}:slots`))[0]);
    const r2 = await lim.limitAudit();
    expect(r2.status === 'ok' && r2.fixes).toEqual([
      { queue: Q, key: 'c', what: 'held', was: 2, now: 1 },
      { queue: Q, key: 'c', what: 'ready' },
    ]);
    const r3 = await lim.limitAudit();
    expect(r3).toEqual({ status: 'ok', fixes: [] });
  });
});
