// The reap script and Reaper duty against a real redis-server: a dead node's jobs go back to
// the front of their queues exactly once (even with 5 reapers racing on 10 000 jobs), live
// nodes are left alone, a reaped node is fenced, only jobs with evidence that they started
// count toward a poison pill, and pills go to dead with bytes intact.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { testConfig } from '../helpers/config.js';
import { Scripts } from '../../src/redis/scripts.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Reaper } from '../../src/core/duties/reaper.js';
import { silentLogger } from '../../src/util/logger.js';
import { payloadIdentity } from '../../src/job/identity.js';

let server: RedisServer;
let scripts: Scripts;
const keys = makeKeys('');
const config = testConfig({ maxRecoveries: 2, reapBatch: 1000 });

beforeAll(async () => {
  server = await startRedis();
  scripts = new Scripts(server.client, keys);
});
afterAll(async () => server.stop());
beforeEach(async () => {
  await server.client.flushdb();
});

const job = (n: number, extra = '') => `{"class":"T","args":[${n}${extra}],"jid":"j${n}","queue":"q"}`;
/** A requeued object as the reap writes it: "verk_recovered": n appended (or rewritten in place). */
const marked = (raw: string, n: number) => `${raw.replace(/,"verk_recovered":\d+\}$/, '}').slice(0, -1)},"verk_recovered":${n}}`;

/** A node that fetched `count` jobs of queue q and then died (its heartbeat key removed). */
async function deadNodeWith(node: string, count: number, queue = 'q'): Promise<void> {
  await scripts.register(node, 10_000, 60_000, {});
  const payloads = Array.from({ length: count }, (_, i) => job(i + 1));
  for (let i = 0; i < payloads.length; i += 5000) await server.client.lpush(keys.queue(queue), ...payloads.slice(i, i + 5000));
  let fetched = 0;
  while (fetched < count) fetched += (await scripts.fetch(queue, node, 1000, fetched === 0)).jobs.length;
  await server.client.del(keys.node(node));
}

describe('reap', () => {
  it('leaves a live node alone', async () => {
    await scripts.register('live', 10_000, 60_000, {});
    await server.client.lpush(keys.queue('q'), job(1));
    await scripts.fetch('q', 'live', 1, true);
    const reaper = new Reaper(scripts, config, silentLogger, 'me');
    expect(await reaper.tick()).toEqual([]);
    expect((await reaper.reapNode('live', false)).status).toBe('alive');
    expect(await server.client.llen(keys.inprogress('q', 'live'))).toBe(1);
  });

  it('hands every job of a dead node back to the front in fetch order, deregisters it and records the event', async () => {
    await deadNodeWith('dead', 3);
    await server.client.lpush(keys.queue('q'), job(100)); // waiting behind the recovered ones
    const reports = await new Reaper(scripts, config, silentLogger, 'me').tick();
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
    await new Reaper(scripts, config, silentLogger, 'me').tick();
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
      console.log(`[measured] 5 racing reapers, ${N} jobs: moved ${moved}, queue ${queue.length}, unique ${unique.size}, duplicates ${queue.length - unique.size}, lost ${N - unique.size}, ${ms} ms; per reaper ${reports.map((r) => r.moved).join('/')}`);
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
      await server.client.del(keys.node(node));
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
      const { jobs } = await scripts.fetch('q', node, 10, true);
      if (round === 1) {
        await server.client.lpush(keys.queue('q'), pill, ...Array.from({ length: 9 }, (_, i) => job(i + 1)));
        (await scripts.fetch('q', node, 10, false)).jobs.forEach((j) => jobs.push(j));
      }
      expect(jobs).toHaveLength(10);
      await server.client.del(keys.node(node));
      const r = await reaper.reapNode(node, false, true, ['j0']); // the crashed child reported only the pill running
      expect(r).toMatchObject(round < 3 ? { moved: 10, buried: 0, unstarted: 9 } : { moved: 9, buried: 1, unstarted: 9 });
    }
    const queue = await server.client.lrange(keys.queue('q'), 0, -1);
    expect(queue.sort()).toEqual(Array.from({ length: 9 }, (_, i) => marked(job(i + 1), 0)).sort());
    expect(JSON.parse((await server.client.zrange(keys.dead, 0, -1))[0])).toMatchObject({ jid: 'j0', error_class: 'Verk::PoisonPill' });
    for (let i = 1; i <= 9; i++) expect(await server.client.exists(keys.recovered(`j${i}`))).toBe(0);
    console.log(`[measured] pill + 9 neighbours, 3 crashes: neighbours buried 0, neighbours requeued ${queue.length}, pill buried 1`);
  });

  it('an object jid and null jids each get their own counter that survives the reap\'s own edit', async () => {
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
      await server.client.del(keys.node(node));
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
