// The reap script and Reaper duty against a real redis-server: a dead node's jobs go back to
// the front of their queues exactly once (even with 5 reapers racing on 10 000 jobs), live
// nodes are left alone, a reaped node is fenced, only jobs with evidence that they started
// count toward a poison pill, and pills go to dead with bytes intact.
import { beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { RedisServer } from '../helpers/redis-server.js';
import { useScriptsServer } from '../helpers/scripts-server.js';
import { testConfig } from '../helpers/config.js';
import { Scripts } from '../../src/redis/scripts.js';
import { Reaper } from '../../src/core/duties/reaper.js';
import { silentLogger } from '../../src/util/logger.js';
import { decodePayload, identityBytes, payloadIdentity } from '../../src/job/identity.js';
import { planReap } from '../../src/api/reap-plan.js';
import { openAdmin } from '../../src/api/admin-context.js';

const config = testConfig({ maxRecoveries: 2, reapBatch: 1000 });

const ctx = useScriptsServer();
const keys = ctx.keys;
let server: RedisServer;
let scripts: Scripts;
beforeAll(() => {
  ({ server, scripts } = ctx);
});

const job = (n: number, extra = '') => `{"class":"T","args":[${n}${extra}],"jid":"j${n}","queue":"q"}`;
/** A requeued object as the reap writes it: "verk_recovered": n appended (or rewritten in place). */
const marked = (raw: string, n: number) => `${raw.replace(/,"verk_recovered":\d+\}$/, '}').slice(0, -1)},"verk_recovered":${n}}`;

/** The node's heartbeat key expires now: gone, and due on the reaper's schedule. */
async function expireNow(node: string): Promise<void> {
  await server.client.multi().del(keys.node(node)).zadd(keys.heartbeats, 0, node).exec();
}

/** A node that fetched `count` jobs of queue q and then died (its heartbeat key removed). */
async function deadNodeWith(node: string, count: number, queue = 'q'): Promise<void> {
  await scripts.register(node, 10_000, 60_000, {});
  const payloads = Array.from({ length: count }, (_, i) => job(i + 1));
  for (let i = 0; i < payloads.length; i += 5000) await server.client.lpush(keys.queue(queue), ...payloads.slice(i, i + 5000));
  let fetched = 0;
  while (fetched < count) fetched += (await scripts.fetch(queue, node, 1000, fetched === 0)).jobs.length;
  await expireNow(node);
}

describe('reap', () => {
  it('leaves a live node alone', async () => {
    await scripts.register('live', 10_000, 60_000, {});
    await server.client.lpush(keys.queue('q'), job(1));
    await scripts.fetch('q', 'live', 1, true);
    const reaper = new Reaper(scripts, config, silentLogger, 'me');
    expect(await reaper.pass()).toEqual([]);
    expect((await reaper.reapNode('live', false)).status).toBe('alive');
    expect(await server.client.llen(keys.inprogress('q', 'live'))).toBe(1);
  });

  it('hands every job of a dead node back to the front in fetch order, deregisters it and records the event', async () => {
    await deadNodeWith('dead', 3);
    await server.client.lpush(keys.queue('q'), job(100)); // waiting behind the recovered ones
    const reports = await new Reaper(scripts, config, silentLogger, 'me').pass();
    expect(reports).toEqual([{ node: 'dead', status: 'reaped', moved: 3, buried: 0, remaining: 0, unstarted: 3 }]);
    // No evidence that they started: no recovery counted, each marked "verk_recovered":0.
    expect(await server.client.lrange(keys.queue('q'), 0, -1)).toEqual([job(100), marked(job(3), 0), marked(job(2), 0), marked(job(1), 0)]);
    expect(await server.client.exists(keys.recovered('j1'))).toBe(0);
    expect(await server.client.sismember(keys.nodes, 'dead')).toBe(0);
    expect(await server.client.exists(keys.nodeQueues('dead'), keys.nodeInfo('dead'), keys.inprogress('q', 'dead'))).toBe(0);
    const [event] = (await server.client.lrange(keys.recoveries, 0, -1)).map((e) => JSON.parse(e));
    expect(event).toMatchObject({ by: 'me', node: 'dead', moved: 3, dead: 0, unstarted: 3, queues: { q: 3 } });
    expect(event.jids.sort()).toEqual(['j1', 'j2', 'j3']);
  });

  it('a reaped node cannot heartbeat itself back, and cannot fetch', async () => {
    await deadNodeWith('zombie', 1);
    await new Reaper(scripts, config, silentLogger, 'me').pass();
    expect(await scripts.heartbeat('zombie', 10_000, 60_000, {})).toBe(false);
    expect(await server.client.exists(keys.node('zombie'))).toBe(0);
    await server.client.lpush(keys.queue('q'), job(7));
    expect((await scripts.fetch('q', 'zombie', 1, false)).status).toBe('fenced');
  });

  it('5 reapers racing on one dead node with 10 000 jobs move each job exactly once', async () => {
    const N = 10_000;
    await deadNodeWith('big', N);
    const conns = Array.from({ length: 5 }, () => new Redis(server.port, '127.0.0.1'));
    try {
      const reapers = conns.map((c, i) => new Reaper(new Scripts(c, keys), { ...config, reapBatch: 500 }, silentLogger, `r${i}`));
      const started = Date.now();
      const reports = await Promise.all(reapers.map((r) => r.reapNode('big', false)));
      const ms = Date.now() - started;
      const moved = reports.reduce((n, r) => n + r.moved, 0);
      const queue = await server.client.lrange(keys.queue('q'), 0, -1);
      const unique = new Set(queue);
      console.log(
        `[measured] 5 racing reapers, ${N} jobs: moved ${moved}, queue ${queue.length}, unique ${unique.size}, duplicates ${queue.length - unique.size}, lost ${N - unique.size}, ${ms} ms; per reaper ${reports.map((r) => r.moved).join('/')}`,
      );
      expect(moved).toBe(N);
      expect(queue.length).toBe(N);
      expect(unique.size).toBe(N);
      expect(await server.client.exists(keys.inprogress('q', 'big'))).toBe(0);
      expect(await server.client.sismember(keys.nodes, 'big')).toBe(0);
      expect(await server.client.scard(keys.reaping)).toBe(0);
    } finally {
      conns.forEach((c) => c.disconnect());
    }
  });

  it('buries a started job recovered more than maxRecoveries times in dead with the reason, bytes intact; each kind of evidence counts', async () => {
    const poison = '{"class":"Crash","args":[12345678901234567890123,[],{}],"jid":"pp","queue":"q","tag":"é✓"}';
    const reaper = new Reaper(scripts, config, silentLogger, 'me');
    // Round 1: the heartbeat's running snapshot; round 2: the started set; round 3: the caller's list.
    const evidence = [
      (node: string) => server.client.hset(keys.nodeInfo(node), 'running', JSON.stringify([{ jid: 'pp', class: 'Crash' }, { jid: { odd: 1 } }])),
      (node: string) => server.client.sadd(keys.nodeStarted(node), 'pp'),
      async () => undefined,
    ];
    let payload = poison;
    for (let round = 1; round <= 3; round++) {
      const node = `n${round}`;
      await scripts.register(node, 10_000, 60_000, {});
      await server.client.lpush(keys.queue('q'), payload);
      expect((await scripts.fetch('q', node, 1, true)).jobs).toEqual([Buffer.from(payload)]);
      await evidence[round - 1](node);
      await expireNow(node);
      const r = await reaper.reapNode(node, false, true, round === 3 ? ['pp'] : []);
      expect(await server.client.exists(keys.nodeStarted(node))).toBe(0);
      if (round <= 2) {
        expect(r).toMatchObject({ moved: 1, buried: 0, unstarted: 0 });
        payload = (await server.client.rpop(keys.queue('q')))!;
        expect(payload).toBe(marked(poison, round));
        expect(await server.client.get(keys.recovered('pp'))).toBe(String(round));
      } else expect(r).toMatchObject({ moved: 0, buried: 1, unstarted: 0 });
    }
    const [dead] = await server.client.zrange(keys.dead, 0, -1);
    const parsed = JSON.parse(dead);
    expect(parsed.error_class).toBe('Verk::PoisonPill');
    expect(parsed.error_message).toMatch(/recovered 3 times .*maxRecoveries 2/);
    expect(dead.startsWith('{"class":"Crash","args":[12345678901234567890123,[],{}],"jid":"pp","queue":"q","tag":"é✓",')).toBe(true);
    expect(await server.client.llen(keys.queue('q'))).toBe(0);
  });

  it('neighbours fetched with a pill are never counted: only the pill is buried', async () => {
    const reaper = new Reaper(scripts, config, silentLogger, 'me');
    const pill = job(0);
    for (let round = 1; round <= 3; round++) {
      const node = `batch${round}`;
      await scripts.register(node, 10_000, 60_000, {});
      const jobs: Buffer[] = [...(await scripts.fetch('q', node, 10, true)).jobs];
      if (round === 1) {
        await server.client.lpush(keys.queue('q'), pill, ...Array.from({ length: 9 }, (_, i) => job(i + 1)));
        (await scripts.fetch('q', node, 10, false)).jobs.forEach((j) => jobs.push(j));
      }
      expect(jobs).toHaveLength(10);
      await expireNow(node);
      const r = await reaper.reapNode(node, false, true, ['j0']); // the crashed child reported only the pill running
      expect(r).toMatchObject(round < 3 ? { moved: 10, buried: 0, unstarted: 9 } : { moved: 9, buried: 1, unstarted: 9 });
    }
    const queue = await server.client.lrange(keys.queue('q'), 0, -1);
    expect(queue.sort()).toEqual(Array.from({ length: 9 }, (_, i) => marked(job(i + 1), 0)).sort());
    expect(JSON.parse((await server.client.zrange(keys.dead, 0, -1))[0])).toMatchObject({ jid: 'j0', error_class: 'Verk::PoisonPill' });
    for (let i = 1; i <= 9; i++) expect(await server.client.exists(keys.recovered(`j${i}`))).toBe(0);
    console.log(`[measured] pill + 9 neighbours, 3 crashes: neighbours buried 0, neighbours requeued ${queue.length}, pill buried 1`);
  });

  it("an object jid and null jids each get their own counter that survives the reap's own edit", async () => {
    const reaper = new Reaper(scripts, config, silentLogger, 'me');
    const originals = ['{"jid":{"a":1},"class":"T","args":[1]}', '{"jid":null,"class":"T","args":[2]}', '{"class":"T","args":[3],"jid":null} '];
    const ids = originals.map((p) => payloadIdentity(p));
    expect(new Set(ids).size).toBe(3);
    let current = originals;
    for (let round = 1; round <= 3; round++) {
      const node = `odd${round}`;
      await scripts.register(node, 10_000, 60_000, {});
      await server.client.lpush(keys.queue('q'), ...current);
      await scripts.fetch('q', node, 10, true);
      // Identities of the bytes as fetched (with the earlier "verk_recovered") stay those of the originals.
      expect(current.map((p) => payloadIdentity(p))).toEqual(ids);
      await expireNow(node);
      const r = await reaper.reapNode(node, false, true, ids);
      if (round < 3) {
        expect(r).toMatchObject({ moved: 3, buried: 0, unstarted: 0 });
        for (const id of ids) expect(await server.client.get(keys.recovered(id))).toBe(String(round));
        current = (await server.client.lrange(keys.queue('q'), 0, -1)).reverse();
        await server.client.del(keys.queue('q'));
      } else expect(r).toMatchObject({ moved: 0, buried: 3 });
    }
    expect(await server.client.zcard(keys.dead)).toBe(3);
  });

  it('a forced graceful hand-back does not count a recovery', async () => {
    await deadNodeWith('gentle', 2);
    const reaper = new Reaper(scripts, config, silentLogger, 'me');
    await reaper.reapNode('gentle', true, false);
    expect(await server.client.llen(keys.queue('q'))).toBe(2);
    expect(await server.client.exists(keys.recovered('j1'))).toBe(0);
    expect(await server.client.llen(keys.recoveries)).toBe(0);
  });
});

describe('reap: every payload shape, every payload kept', () => {
  const odd: Buffer[] = [
    Buffer.from('[1,2]'),
    Buffer.from('[{"a":1}]'),
    Buffer.from('5'),
    Buffer.from('"s"'),
    Buffer.from('null'),
    Buffer.from('{"jid":"broken",'),
    Buffer.from('not json at all'),
    Buffer.from([0x7b, 0x22, 0x6a, 0x69, 0x64, 0x22, 0x3a, 0x22, 0x75, 0x31, 0x22, 0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // {"jid":"u1","x":"\xff\xfe"}
    Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), // invalid UTF-8, not JSON
    Buffer.from('{"jid":"nul","x":"a\u0000b"}'), // raw NUL inside a string: not strict JSON
    Buffer.from('{"jid":"z\\u0000","n":0}'),
    Buffer.from('{"jid":"big","args":[123456789012345678901234567890,1e400]}'),
    Buffer.from(`{"jid":"deep","x":${'['.repeat(1200)}${']'.repeat(1200)}}`),
    Buffer.from(`{"jid":"mega","class":"T","args":["${'x'.repeat(1024 * 1024)}"]}`),
    Buffer.from('{"jid":"dup","class":"T"}'),
    Buffer.from('{"jid":"dup","class":"T"}'),
    Buffer.from('{}'),
    Buffer.from(' { "jid" : "spaced" } \n'),
  ];
  const ordinary = Array.from({ length: 48 }, (_, i) => Buffer.from(job(i + 1)));

  /** Everything in queue q, dead and in-progress lists, as bytes. */
  async function everywhere(): Promise<{ queue: Buffer[]; dead: Buffer[]; held: number }> {
    const lists = await server.client.keys('inprogress:*');
    let held = 0;
    for (const l of lists) held += await server.client.llen(l);
    return { queue: await server.client.lrangeBuffer(keys.queue('q'), 0, -1), dead: await server.client.zrangeBuffer(keys.dead, 0, -1), held };
  }

  it('48 ordinary jobs plus arrays, scalars, invalid JSON and UTF-8, NUL, big, deep, 1 MB and duplicates, in batches of 5: each in exactly one place, bytes kept but for verk_recovered', async () => {
    const all = [...ordinary.slice(0, 20), ...odd, ...ordinary.slice(20)];
    const reaper = new Reaper(scripts, { ...config, reapBatch: 5 }, silentLogger, 'me');
    const pill = Buffer.from(job(7));
    let lost = 0;
    let dupes = 0;
    for (let round = 1; round <= 3; round++) {
      const node = `shapes${round}`;
      await scripts.register(node, 10_000, 60_000, {});
      const fromQueue = round === 1 ? all : (await everywhere()).queue;
      await server.client.del(keys.queue('q'));
      await server.client.lpush(keys.queue('q'), ...[...fromQueue].reverse());
      let fetched = 0;
      while (fetched < all.length) fetched += (await scripts.fetch('q', node, 7, fetched === 0)).jobs.length;
      await expireNow(node);
      await server.client.hset(keys.nodeInfo(node), 'running', JSON.stringify([{ jid: 'j7' }]));
      // The dry run predicts exactly what the reap then does.
      const plan = await planReap(openAdmin({ redisUrl: server.url, redis: server.client }), { ...config, reapBatch: 5 }, { node });
      const r = await reaper.reapNode(node, false, true);
      expect(r.status).toBe('reaped');
      expect([plan.requeue, plan.dead, plan.nodes[0].unstarted]).toEqual([r.moved, r.buried, r.unstarted]);
      const { queue, dead, held } = await everywhere();
      expect(held).toBe(0);
      // Each original payload once: objects compared without the "verk_recovered" the reap writes.
      const seen = [...queue, ...dead].map((b) => identityBytes(b).toString('latin1'));
      const want = all.map((b) => identityBytes(b).toString('latin1'));
      for (const w of new Set(want)) {
        const have = seen.filter((s) => s === w).length;
        const expected = want.filter((x) => x === w).length;
        if (round === 3 && w === identityBytes(pill).toString('latin1')) continue; // the buried pill carries its reason
        lost += Math.max(0, expected - have);
        dupes += Math.max(0, have - expected);
      }
      expect(queue.length + dead.length).toBe(all.length);
      // Non-objects move byte for byte.
      for (const o of odd.filter((b) => decodePayload(b).job === undefined)) expect(queue.some((q) => q.equals(o))).toBe(true);
      if (round < 3) expect(dead).toHaveLength(0);
    }
    const { dead } = await everywhere();
    expect(dead).toHaveLength(1);
    expect(JSON.parse(dead[0].toString())).toMatchObject({ jid: 'j7', error_class: 'Verk::PoisonPill' });
    console.log(`[measured] ${all.length} payloads of every shape, 3 reaps in batches of 5: lost ${lost}, duplicated ${dupes}, buried 1 (the pill with evidence)`);
    expect([lost, dupes]).toEqual([0, 0]);
  });

  it('a destination of the wrong type: nothing moved, a named status with the key, and the next reap after the repair moves everything', async () => {
    await deadNodeWith('wt', 4);
    await server.client.set(keys.queue('q'), 'not a list');
    const reaper = new Reaper(scripts, config, silentLogger, 'me');
    const r = await reaper.reapNode('wt', false, true, ['j1']);
    expect(r).toMatchObject({ status: 'wrongtype', wrongKey: keys.queue('q'), moved: 0, buried: 0, remaining: 4 });
    expect(await server.client.llen(keys.inprogress('q', 'wt'))).toBe(4);
    expect(await server.client.sismember(keys.nodes, 'wt')).toBe(1);
    expect(await server.client.exists(keys.recovered('j1'), keys.recoveries)).toBe(0);
    await server.client.set(keys.dead, 'x');
    await server.client.del(keys.queue('q'));
    expect(await reaper.reapNode('wt', false)).toMatchObject({ status: 'wrongtype', wrongKey: keys.dead });
    await server.client.del(keys.dead);
    await server.client.sadd(keys.nodes, 'wt-bad');
    await server.client.set(keys.nodeQueues('wt-bad'), 'x');
    // One node's broken key does not stop the pass over the others.
    const reports = await reaper.pass();
    expect(reports.map((x) => [x.node, x.status]).sort()).toEqual([
      ['wt', 'reaped'],
      ['wt-bad', 'wrongtype'],
    ]);
    expect(reports.find((x) => x.node === 'wt')).toMatchObject({ moved: 4 });
  });

  it('out of memory: the first write of the reap is refused and nothing changes', async () => {
    await deadNodeWith('oom', 3);
    const reaper = new Reaper(scripts, config, silentLogger, 'me');
    await server.client.config('SET', 'maxmemory', '1');
    try {
      await expect(reaper.reapNode('oom', false, true, ['j1'])).rejects.toThrow(/OOM/);
    } finally {
      await server.client.config('SET', 'maxmemory', '0');
    }
    expect(await server.client.llen(keys.inprogress('q', 'oom'))).toBe(3);
    expect(await server.client.sismember(keys.nodes, 'oom')).toBe(1);
    expect(await server.client.exists(keys.queue('q'), keys.recovered('j1'), keys.recoveries)).toBe(0);
    expect(await reaper.reapNode('oom', false, true, ['j1'])).toMatchObject({ status: 'reaped', moved: 3, unstarted: 2 });
  });
});
