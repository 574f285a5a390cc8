// Unique jobs in a queue with a cluster-wide limit, against a real redis-server: the limited ack
// releases the lock of a job it removed (and only then), and a unique job parked behind its full
// limit key keeps its lock: the sweeper finds it in the parked list (lua/include/unique-where.lua)
// instead of taking it for an orphan.
import { beforeAll, describe, expect, it } from 'vitest';
import { useScriptsServer } from '../helpers/scripts-server.js';
import { Scripts } from '../../src/redis/scripts.js';
import { parseLimits } from '../../src/config/limits.js';
import { payloadIdentity } from '../../src/job/identity.js';
import type { RedisServer } from '../helpers/redis-server.js';

const NODE = 'node-a';
const Q = 'api';
const ctx = useScriptsServer(async ({ scripts }) => {
  await scripts.register(NODE, 10_000, 60_000, { host: 'test' });
});
let server: RedisServer;
let lim: Scripts;
beforeAll(() => {
  server = ctx.server;
  lim = new Scripts(
    server.client,
    ctx.keys,
    undefined,
    parseLimits({ [Q]: { key: 'args[0].account', concurrency: 1 } }, (why) => {
      throw new Error(why);
    }),
  );
});

const uniqueJob = (jid: string, account: string, lockKey: string) =>
  JSON.stringify({ class: 'T', args: [{ account }], jid, queue: Q, verk_unique: { key: lockKey, until: 'done' } });

async function enqueue(jid: string, account: string, lockKey: string) {
  return lim.enqueueUnique({ key: lockKey, until: 'done', jid, payload: uniqueJob(jid, account, lockKey), queue: Q });
}

describe('unique jobs in a limited queue', () => {
  it('the limited ack releases the lock of the job it removed; a zombie ack of a job no longer held releases nothing', async () => {
    expect((await enqueue('u1', 'acct-1', 'lock-1')).enqueued).toBe(true);
    const fetched = await lim.fetch(Q, NODE, 5, true);
    expect(fetched.jobs).toHaveLength(1);
    const raw = fetched.jobs[0];
    // A late ack of another job (not held): the lock of u1 stays.
    const other = Buffer.from(uniqueJob('u1', 'acct-1', 'lock-1').replace('"u1"', '"u1x"'));
    await lim.ack(Q, NODE, [{ remove: other }], 0, { ids: [payloadIdentity(other)], locks: [{ key: 'lock-1', jid: 'u1' }] });
    expect(await server.client.get('verk:unique:lock-1')).toBe('u1');
    const res = await lim.ack(Q, NODE, [{ bytes: raw, hint: 0 }], 0, { ids: [payloadIdentity(raw)], locks: [{ key: 'lock-1', jid: 'u1' }] });
    expect(res.removed).toBe(1);
    expect(await server.client.get('verk:unique:lock-1')).toBeNull();
    expect(Number((await server.client.hget(`verk:limit:${Q}:held`, 'acct-1')) ?? 0)).toBe(0);
  });

  it('a unique job parked behind its full key is found by the sweeper and keeps its lock', async () => {
    expect((await enqueue('p1', 'acct-2', 'lock-p1')).enqueued).toBe(true);
    expect((await enqueue('p2', 'acct-2', 'lock-p2')).enqueued).toBe(true);
    // The first takes the key's only slot; the second is parked.
    const fetched = await lim.fetch(Q, NODE, 5, false);
    expect(fetched.jobs.map((j) => JSON.parse(j.toString()).jid)).toEqual(['p1']);
    expect(await server.client.llen(`verk:limit:${Q}:parked:acct-2`)).toBe(1);
    const r = await lim.uniqueSweep(0, 'test');
    expect(await server.client.get('verk:unique:lock-p2')).toBe('p2');
    expect(await server.client.get('verk:unique:lock-p1')).toBe('p1');
    expect(r).toMatchObject({ released: [] });
    expect((await lim.uniqueWhy('lock-p2')).where).toBe('parked');
  });
});
