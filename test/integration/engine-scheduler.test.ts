// The scheduler duty in the test process against a private Redis, with payloads that are not
// valid UTF-8: one tick ends, promotes the good entries and buries the undecodable ones in dead
// as their exact bytes, with a bounded number of script calls; and a tick can never spin on
// entries it cannot move.
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { testConfig } from '../helpers/config.js';
import { keys } from '../helpers/engine-kit.js';
import { Scripts } from '../../src/redis/scripts.js';
import { MAX_BATCHES_PER_TICK, Scheduler } from '../../src/core/duties/scheduler.js';
import { silentLogger } from '../../src/util/logger.js';

let r: RedisServer['client'];

usePrivateRedis((s) => {
  r = s.client;
});

/** Script calls Redis has run so far (EVALSHA + EVAL). */
async function scriptCalls(): Promise<number> {
  const info = await r.info('commandstats');
  let n = 0;
  for (const m of info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)) n += Number(m[1]);
  return n;
}

const invalid = (i: number) =>
  Buffer.concat([Buffer.from(`{"class":"C","args":[${i}],"jid":"bad${i}","queue":"q","x":"`), Buffer.from([0xff, 0xfe, i & 0xff]), Buffer.from('"}')]);

describe('scheduler with payloads that are not valid UTF-8', () => {
  it('150 undecodable due entries + 10 good ones: one tick ends, good ones queued, bad ones dead byte for byte', async () => {
    const bad = Array.from({ length: 150 }, (_, i) => invalid(i));
    for (const [i, b] of bad.entries()) await r.zadd(i % 2 ? keys.retry : keys.schedule, 100 + i, b);
    const good = Array.from({ length: 10 }, (_, i) => JSON.stringify({ class: 'C', args: [i], jid: `good${i}`, queue: 'q' }));
    for (const [i, g] of good.entries()) await r.zadd(i % 2 ? keys.retry : keys.schedule, 50 + i * 20, g);
    const batch = 20;
    const scheduler = new Scheduler(new Scripts(r, keys), testConfig({ schedulerBatch: batch }), silentLogger);
    const before = await scriptCalls();
    expect(await scheduler.tick(1_000_000)).toEqual({ queued: 10, dead: 150 });
    const calls = (await scriptCalls()) - before;
    console.log(`[measured] one tick over 160 due entries (150 invalid UTF-8), batch ${batch}: ${calls} script calls`);
    // 80 per set in batches of 20: 4 full batches per set, plus at most one empty read each.
    expect(calls).toBeLessThanOrEqual(10);
    expect((await r.lrange(keys.queue('q'), 0, -1)).map((p) => JSON.parse(p).jid).sort()).toEqual(good.map((g) => JSON.parse(g).jid).sort());
    const dead = await r.zrangeBuffer(keys.dead, 0, -1);
    expect(dead).toHaveLength(150);
    const want = new Set(bad.map((b) => b.toString('hex')));
    expect(dead.every((d) => want.has(d.toString('hex')))).toBe(true);
    expect(await r.zcard(keys.retry)).toBe(0);
    expect(await r.zcard(keys.schedule)).toBe(0);
  });

  it('a batch that moves nothing (e.g. another node took it) ends the tick instead of reading it again', async () => {
    for (let i = 0; i < 40; i++) await r.zadd(keys.retry, i, JSON.stringify({ class: 'C', args: [i], jid: `r${i}`, queue: 'q' }));
    // A promote that moves nothing: the entries stay due, as an entry no script could move would.
    let promotes = 0;
    let claim = 0;
    const stuck = new (class extends Scripts {
      override async promote() {
        promotes++;
        return { queued: claim, dead: 0 };
      }
    })(r, keys);
    const scheduler = new Scheduler(stuck, testConfig({ schedulerBatch: 10 }), silentLogger);
    expect(await scheduler.tick(1_000_000)).toEqual({ queued: 0, dead: 0 });
    expect(promotes).toBe(1); // retry: one batch, then the tick moves on (schedule is empty)
    // Even a promote that claims progress without making any cannot keep one tick going.
    promotes = 0;
    claim = 10;
    await scheduler.tick(1_000_000);
    expect(promotes).toBe(MAX_BATCHES_PER_TICK);
    expect(await r.zcard(keys.retry)).toBe(40);
  });
});
