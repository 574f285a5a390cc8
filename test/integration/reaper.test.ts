// The reap script and Reaper duty against a real redis-server: a dead node's jobs go back to
// the front of their queues exactly once (even with 5 reapers racing on 10 000 jobs), live
// nodes are left alone, a reaped node is fenced, poison pills go to dead with bytes intact.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { testConfig } from '../helpers/config.js';
import { Scripts } from '../../src/redis/scripts.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Reaper } from '../../src/core/duties/reaper.js';
import { silentLogger } from '../../src/util/logger.js';

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
    expect(reports).toEqual([{ node: 'dead', status: 'reaped', moved: 3, buried: 0, remaining: 0, unstarted: 0 }]);
    expect(await server.client.lrange(keys.queue('q'), 0, -1)).toEqual([job(100), job(3), job(2), job(1)]);
    expect(await server.client.sismember(keys.nodes, 'dead')).toBe(0);
    expect(await server.client.exists(keys.nodeQueues('dead'), keys.nodeInfo('dead'), keys.inprogress('q', 'dead'))).toBe(0);
    const [event] = (await server.client.lrange(keys.recoveries, 0, -1)).map((e) => JSON.parse(e));
    expect(event).toMatchObject({ by: 'me', node: 'dead', moved: 3, dead: 0, queues: { q: 3 } });
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

  it('buries a job recovered more than maxRecoveries times in dead with the reason, payload bytes intact', async () => {
    const poison = '{"class":"Crash","args":[12345678901234567890123,[],{}],"jid":"pp","queue":"q","tag":"é✓"}';
    for (let round = 1; round <= 3; round++) {
      const node = `n${round}`;
      await scripts.register(node, 10_000, 60_000, {});
      await server.client.lpush(keys.queue('q'), poison);
      expect((await scripts.fetch('q', node, 1, true)).jobs).toEqual([Buffer.from(poison)]);
      await server.client.del(keys.node(node));
      const [r] = await new Reaper(scripts, config, silentLogger, 'me').tick();
      if (round <= 2) {
        expect(r).toMatchObject({ moved: 1, buried: 0 });
        const requeued = (await server.client.rpop(keys.queue('q')))!;
        // From the second recovery on (isolateFrom(2) = 2) the job is marked to run alone.
        expect(requeued).toBe(round === 1 ? poison : poison.slice(0, -1) + ',"verk_recovered":2}');
      } else expect(r).toMatchObject({ moved: 0, buried: 1 });
    }
    const [dead] = await server.client.zrange(keys.dead, 0, -1);
    const parsed = JSON.parse(dead);
    expect(parsed.error_class).toBe('Verk::PoisonPill');
    expect(parsed.error_message).toMatch(/recovered 3 times .*maxRecoveries 2/);
    expect(dead.startsWith('{"class":"Crash","args":[12345678901234567890123,[],{}],"jid":"pp","queue":"q","tag":"é✓",')).toBe(true);
    expect(await server.client.llen(keys.queue('q'))).toBe(0);
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
