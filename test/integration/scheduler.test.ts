// The scheduler duty against a real redis-server: due `schedule`/`retry` entries move to their
// queues with a fresh enqueued_at and untouched bytes otherwise, exactly once across racing
// schedulers; unroutable and malformed entries go to dead instead of looping or vanishing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { testConfig } from '../helpers/config.js';
import { Scripts } from '../../src/redis/scripts.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Scheduler } from '../../src/core/duties/scheduler.js';
import { silentLogger } from '../../src/util/logger.js';

let server: RedisServer;
let scheduler: Scheduler;
const keys = makeKeys('');

beforeAll(async () => {
  server = await startRedis();
  scheduler = new Scheduler(new Scripts(server.client, keys), testConfig({ schedulerBatch: 10 }), silentLogger);
});
afterAll(async () => server.stop());
beforeEach(async () => {
  await server.client.flushdb();
});

describe('scheduler', () => {
  it('moves due entries (only) to their queues, keeping every byte but enqueued_at', async () => {
    const due = '{"retry":true,"queue":"mail","class":"M","args":[12345678901234567890123,[],{},"ü"],"jid":"a1","created_at":1.5}';
    const later = '{"queue":"mail","class":"M","args":[],"jid":"a2"}';
    await server.client.zadd(keys.schedule, 100, due, 5000, later);
    const r = await scheduler.tick(200_000);
    expect(r).toEqual({ queued: 1, dead: 0 });
    const [moved] = await server.client.lrange(keys.queue('mail'), 0, -1);
    expect(moved).toBe(due.slice(0, -1) + ',"enqueued_at":200}');
    expect(await server.client.zrange(keys.schedule, 0, -1)).toEqual([later]);
    expect(await server.client.sismember(keys.queues, 'mail')).toBe(1);
  });

  it('promotes due retries the same way and drains more than one batch per tick', async () => {
    for (let i = 0; i < 25; i++) await server.client.zadd(keys.retry, i, JSON.stringify({ queue: 'q', class: 'C', args: [i], jid: `r${i}` }));
    expect(await scheduler.tick(1_000_000)).toEqual({ queued: 25, dead: 0 });
    expect(await server.client.llen(keys.queue('q'))).toBe(25);
    expect(await server.client.zcard(keys.retry)).toBe(0);
  });

  it('a job without a queue field goes to default (as Sidekiq does)', async () => {
    await server.client.zadd(keys.schedule, 1, '{"class":"C","args":[]}');
    await scheduler.tick(10_000);
    expect(await server.client.llen(keys.queue('default'))).toBe(1);
  });

  it('unroutable and malformed entries go to dead once, with a reason, and the tick ends', async () => {
    await server.client.zadd(keys.schedule, 1, '{"class":"C","args":[],"queue":{"bad":1},"jid":"u1"}', 2, 'not json {');
    expect(await scheduler.tick(10_000)).toEqual({ queued: 0, dead: 2 });
    const dead = await server.client.zrange(keys.dead, 0, -1);
    expect(dead).toContain('not json {');
    const unroutable = JSON.parse(dead.find((d) => d.includes('u1'))!);
    expect(unroutable).toMatchObject({ error_class: 'Verk::UnroutableJob', jid: 'u1' });
    expect(await server.client.zcard(keys.schedule)).toBe(0);
  });

  it('racing schedulers move each entry exactly once', async () => {
    const N = 500;
    for (let i = 0; i < N; i += 100) {
      const args: (string | number)[] = [];
      for (let j = i; j < i + 100; j++) args.push(1, JSON.stringify({ queue: 'q', class: 'C', args: [j], jid: `s${j}` }));
      await server.client.zadd(keys.schedule, ...args);
    }
    const conns = Array.from({ length: 4 }, () => new Redis(server.port, '127.0.0.1'));
    try {
      const all = conns.map((c) => new Scheduler(new Scripts(c, keys), testConfig({ schedulerBatch: 50 }), silentLogger));
      const results = await Promise.all(all.map((s) => s.tick(10_000)));
      expect(results.reduce((n, r) => n + r.queued, 0)).toBe(N);
      const queue = await server.client.lrange(keys.queue('q'), 0, -1);
      expect(new Set(queue.map((q) => JSON.parse(q).jid)).size).toBe(N);
      expect(queue.length).toBe(N);
    } finally {
      conns.forEach((c) => c.disconnect());
    }
  });
});
