// Paging a sorted set after a cursor (lua/set-page-1.lua, through Scripts.setPage, which every
// set listing, search and bulk action reads by): an entry that stays in the set while it is paged
// is seen exactly once, whatever else is removed — the cursor entry itself, the low end (the
// scheduler), a run of ties at the cursor's score — in both orders (dead is newest first).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeKeys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let scripts: Scripts;
const KEY = 'retry';

beforeAll(async () => {
  server = await startRedis();
  scripts = new Scripts(server.client, makeKeys(''));
});
afterAll(async () => server.stop());
beforeEach(async () => {
  await server.client.flushdb();
});

/** Pages through KEY, calling `between` after each page; returns the members read, in order. */
async function pageAll(order: 'asc' | 'desc', size: number, between: (page: [Buffer, string][]) => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  let after: { score: string; member: Buffer } | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await scripts.setPage(KEY, order, size, after);
    seen.push(...page.map(([m]) => m.toString()));
    if (page.length < size) return seen;
    after = { member: page[page.length - 1][0], score: page[page.length - 1][1] };
    await between(page);
  }
  throw new Error('paging did not end');
}

describe('set-page', () => {
  it.each(['asc', 'desc'] as const)('%s: the low end consumed and the cursor entry removed after every page: every entry that stayed is read once', async (order) => {
    const n = 1000;
    await server.client.zadd(KEY, ...Array.from({ length: n }, (_, i) => [1000 + Math.floor(i / 3), `m${String(i).padStart(4, '0')}`]).flat());
    const removed = new Set<string>();
    const seen = await pageAll(order, 50, async (page) => {
      const cursor = page[page.length - 1][0].toString();
      // The cursor entry goes (a promotion or a delete), and so do 20 at the low end.
      const low = await server.client.zpopmin(KEY, 20);
      for (let i = 0; i < low.length; i += 2) removed.add(low[i]);
      await server.client.zrem(KEY, cursor);
      removed.add(cursor);
    });
    const stayed = Array.from({ length: n }, (_, i) => `m${String(i).padStart(4, '0')}`).filter((m) => !removed.has(m) || seen.includes(m));
    // Everything that stayed was read, and nothing twice.
    expect(new Set(seen).size).toBe(seen.length);
    for (const m of stayed) if (!removed.has(m)) expect(seen).toContain(m);
  });

  it.each(['asc', 'desc'] as const)('%s: 1 200 entries of one score, the cursor removed after every page: bytewise tie order kept, none skipped', async (order) => {
    // Members whose bytewise order differs from a locale's (case, bytes above 0x7f).
    const members = Array.from({ length: 1200 }, (_, i) => (i % 3 === 0 ? `B${i}` : i % 3 === 1 ? `a${i}` : `\u00e9${i}`));
    await server.client.zadd(KEY, ...members.flatMap((m) => [5, m]));
    const removed = new Set<string>();
    const seen = await pageAll(order, 100, async (page) => {
      const cursor = page[page.length - 1][0].toString();
      await server.client.zrem(KEY, cursor);
      removed.add(cursor);
    });
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual([...members].sort());
  });

  it('refuses a page size that is not a positive number', async () => {
    await expect(scripts.setPage(KEY, 'asc', 0)).rejects.toThrow('page size');
  });
});
