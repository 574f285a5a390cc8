// lua/flush-daily-stats-3.lua through its wrapper against a private redis-server: Sidekiq's
// daily counters get a supervisor's totals exactly once — a repeated call (a lost reply, a
// client resend), an older call arriving late, a failed call followed by a bigger one — with
// Sidekiq's 5-year TTL; the day is the flush's; an expired record falls back on what the caller
// knows was added; a counter of the wrong type is refused with nothing written.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Scripts, type DailyStatsFlush } from '../../src/redis/scripts.js';
import { WrongTypeError } from '../../src/redis/statuses.js';
import { FLUSH_RECORD_TTL_S, STATS_TTL_S } from '../../src/runner/daily-stats.js';

let server: RedisServer;
let scripts: Scripts;
const ID = 'host:1:abcdefabcdef';
const DAY = '2026-03-01';

const flush = (totals: [number, number], added: [number, number] = [0, 0], date = DAY, s = scripts) =>
  s.flushDailyStats({
    identity: ID,
    date,
    totals: { processed: totals[0], failed: totals[1] },
    added: { processed: added[0], failed: added[1] },
    statsTtlS: STATS_TTL_S,
    recordTtlS: FLUSH_RECORD_TTL_S,
  } satisfies DailyStatsFlush);
const day = async (date = DAY, prefix = '') => (await server.client.mget(`${prefix}stat:processed:${date}`, `${prefix}stat:failed:${date}`)).map(Number);

beforeAll(async () => {
  server = await startRedis();
  scripts = new Scripts(server.client, makeKeys(''));
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  await server.client.flushdb();
});

describe('flush-daily-stats', () => {
  it("adds the totals to the day's counters with Sidekiq's TTL and records them for the identity", async () => {
    expect(await flush([7, 2])).toEqual({ processed: 7, failed: 2 });
    expect(await day()).toEqual([7, 2]);
    for (const k of [`stat:processed:${DAY}`, `stat:failed:${DAY}`]) {
      const ttl = await server.client.ttl(k);
      expect(ttl).toBeGreaterThan(STATS_TTL_S - 10);
      expect(ttl).toBeLessThanOrEqual(STATS_TTL_S);
    }
    expect(await server.client.hgetall(`verk:stat:flushed:${ID}`)).toEqual({ processed: '7', failed: '2' });
    expect(await server.client.ttl(`verk:stat:flushed:${ID}`)).toBeGreaterThan(FLUSH_RECORD_TTL_S - 10);
    // The per-job totals belong to the ack and fail scripts: untouched.
    expect(await server.client.exists('stat:processed', 'stat:failed')).toBe(0);
  });

  it('adds a repeated or an older call nothing, and a failed call is covered by the next one', async () => {
    await flush([5, 1]);
    expect(await flush([5, 1])).toEqual({ processed: 5, failed: 1 }); // same call again (lost reply, resend)
    expect(await day()).toEqual([5, 1]);
    await flush([9, 3]);
    expect(await flush([6, 2])).toEqual({ processed: 9, failed: 3 }); // an older call, late
    expect(await day()).toEqual([9, 3]);
    // Other supervisors add to the same day independently.
    await scripts.flushDailyStats({
      identity: 'other:2:000000000000',
      date: DAY,
      totals: { processed: 4, failed: 0 },
      added: { processed: 0, failed: 0 },
      statsTtlS: 60,
      recordTtlS: 60,
    });
    expect(await day()).toEqual([13, 3]);
  });

  it('adds only the difference to a new day (the day is the flush’s)', async () => {
    await flush([5, 1]);
    await flush([8, 1], [5, 1], '2026-03-02');
    expect(await day()).toEqual([5, 1]);
    expect((await day('2026-03-02')).slice(0, 1)).toEqual([3]);
    expect(await server.client.exists('stat:failed:2026-03-02')).toBe(0); // nothing to add: not written
  });

  it('an expired record falls back on what the caller knows was added', async () => {
    await flush([5, 1]);
    await server.client.del(`verk:stat:flushed:${ID}`);
    expect(await flush([8, 2], [5, 1])).toEqual({ processed: 8, failed: 2 });
    expect(await day()).toEqual([8, 2]);
  });

  it('refuses a counter that is not an integer, writing nothing', async () => {
    await server.client.set(`stat:failed:${DAY}`, 'oops');
    await expect(flush([3, 1])).rejects.toBeInstanceOf(WrongTypeError);
    await expect(flush([3, 1])).rejects.toThrow(`key stat:failed:${DAY} holds the wrong type`);
    expect(await server.client.exists(`stat:processed:${DAY}`, `verk:stat:flushed:${ID}`)).toBe(0);
    await server.client.del(`stat:failed:${DAY}`);
    await server.client.lpush(`verk:stat:flushed:${ID}`, 'x');
    await expect(flush([3, 1])).rejects.toThrow(`verk:stat:flushed:${ID} holds the wrong type`);
    await server.client.del(`verk:stat:flushed:${ID}`);
    expect(await flush([3, 1])).toEqual({ processed: 3, failed: 1 });
  });

  it('honours the prefix', async () => {
    const prefixed = new Scripts(server.client, makeKeys('app1:'));
    await flush([2, 1], [0, 0], DAY, prefixed);
    expect(await day(DAY, 'app1:')).toEqual([2, 1]);
    expect(await server.client.exists(`app1:verk:stat:flushed:${ID}`)).toBe(1);
  });
});
