// `verk limits why` and the report behind `verk limits` (src/api/limits.ts) on states built by the
// real scripts against a private redis-server: a full key names its holders, a rate-blocked key
// its reopening time, a paused queue and a queue no live node serves say so, a free key with parked
// jobs is due, and the config's limit is shown (source "config") until a node records one.
import { beforeAll, describe, expect, it } from 'vitest';
import { useScriptsServer } from '../helpers/scripts-server.js';
import { Scripts } from '../../src/redis/scripts.js';
import { parseLimits } from '../../src/config/limits.js';
import { limitRecord } from '../../src/config/limits.js';
import { limitsReport, whyLimited } from '../../src/api/limits.js';
import { openAdmin, type AdminContext } from '../../src/api/admin-context.js';

const N = 'why-node';
const limits = parseLimits({ api: { key: 'args[0]', concurrency: 1 }, slow: { key: 'args[0]', rate: '1/hour' } }, (why) => {
  throw new Error(why);
});
const ctx = useScriptsServer(async ({ scripts, server }) => {
  await scripts.register(N, 60_000, 60_000, { host: 'test', queues: 'api:5,slow:5' });
  await server.client.hset(ctx.keys.limits, 'api', limitRecord(limits[0]));
});
let lim: Scripts;
let admin: AdminContext;
beforeAll(() => {
  lim = new Scripts(ctx.server.client, ctx.keys, undefined, limits);
  admin = openAdmin({ redisUrl: ctx.server.url, redis: ctx.server.client });
});
const push = (q: string, ...keys: string[]) =>
  ctx.server.client.lpush(ctx.keys.queue(q), ...keys.map((k, i) => JSON.stringify({ class: 'T', args: [k], jid: `${q}-${k}-${i}-${Math.random()}` })));

describe('verk limits why', () => {
  it('a full key: concurrency full, held by the node; a free key: nothing parked; once freed: due', async () => {
    await push('api', 'k', 'k');
    await lim.fetch('api', N, 5, true);
    const why = await whyLimited(admin, 'api', 'k', limits);
    expect(why.verdict).toBe('concurrency_full');
    expect(why.reasons.join(' ')).toContain(`1/1 slots held by ${N} (1)`);
    expect((await whyLimited(admin, 'api', 'other', limits)).verdict).toBe('nothing_parked');
    const [held] = await ctx.server.client.lrangeBuffer(ctx.keys.inprogress('api', N), 0, -1);
    await lim.handback('api', N, [held]);
    expect((await whyLimited(admin, 'api', 'k', limits)).verdict).toBe('due');
    await ctx.server.client.sadd(ctx.keys.paused, 'api');
    expect((await whyLimited(admin, 'api', 'k', limits)).verdict).toBe('paused');
  });

  it('a rate-blocked key: its window and when it reopens; no live node serving the queue; the config limit until recorded', async () => {
    await push('slow', 'r', 'r');
    await lim.fetch('slow', N, 5, true);
    const report = await limitsReport(admin, limits, { queue: 'slow' });
    expect(report.queues[0].limit.source).toBe('config');
    const k = report.queues[0].keys.find((x) => x.key === 'r')!;
    expect(k).toMatchObject({ held: 1, limit: 0, parked: 1, rate_used: 1, due: false });
    expect(Date.parse(k.next_reopening!) - Date.parse(report.redis_time)).toBeGreaterThan(3_500_000);
    expect((await whyLimited(admin, 'slow', 'r', limits)).verdict).toBe('rate_window');
    await ctx.server.client.del(ctx.keys.node(N));
    expect((await whyLimited(admin, 'slow', 'r', limits)).verdict).toBe('no_fetcher');
    expect((await whyLimited(admin, 'nope', 'r', limits)).verdict).toBe('not_limited');
  });
});
