// Connections to a Redis Cluster (redis+cluster://, src/redis/slot-connector.ts) against a real
// cluster of private redis-server processes (test/helpers/cluster-rig.ts): a connection lands
// on the master of its tag's slot and runs verk-style scripts there; after a failover or a slot
// migration its next commands reach the new master (MOVED, READONLY counted); ASK fails a command
// without a reconnect; a dead first seed is skipped; all seeds down is one logged outage.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { clusterMasters, connectRedis, slotOf, waitReady } from '../../src/redis/connection.js';
import { type RedisEvent, redisEvents } from '../../src/redis/failover-stats.js';
import { type ClusterRig, queuesOnDistinctMasters, startCluster } from '../helpers/cluster-rig.js';
import { freePort } from '../helpers/redis-server.js';
import { startProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { recordingLog } from '../helpers/recording-log.js';

const clients: Redis[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

async function connect(url: string, slotTag: string) {
  const log = recordingLog();
  const redis = connectRedis(url, { name: `test-${slotTag}`, log, slotTag, commandTimeoutMs: 2000 });
  clients.push(redis);
  await waitReady(redis, 10_000);
  return { redis, log };
}

const count = (e: RedisEvent) => redisEvents()[e] ?? 0;

/**
 * Runs `step` every 20 ms until it succeeds (deadline `timeoutMs`); the replies it failed with
 * and when it first succeeded, from `t0`.
 */
async function retryUntil<T>(step: () => Promise<T>, t0: number, timeoutMs = 15_000): Promise<{ value: T; ms: number; errors: string[] }> {
  const errors: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await step();
      return { value, ms: Date.now() - t0, errors };
    } catch (err) {
      errors.push((err as Error).message.split(' ')[0]);
      if (Date.now() > deadline) throw new Error(`no success within ${timeoutMs}ms; replies: ${errors.slice(-10).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

// verk's scripts get one key and build the others from the prefix in ARGV (all in the world's slot).
const SCRIPT = "redis.call('SET', KEYS[1], 'a'); redis.call('SET', ARGV[1] .. 'b', 'b'); return redis.call('GET', ARGV[1] .. 'b')";

describe('a cluster of 3 masters with 1 replica each', () => {
  let rig: ClusterRig;
  let tags: string[];
  beforeAll(async () => {
    const t0 = Date.now();
    rig = await startCluster({ masters: 3, replicasPerMaster: 1 });
    console.log(`[measured] 6-node cluster up and agreed in ${Date.now() - t0}ms`);
    tags = await queuesOnDistinctMasters(rig, 3);
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('a connection needs a slotTag for a cluster URL', () => {
    expect(() => connectRedis(rig.url, { name: 'no-tag' })).toThrow(/needs a slotTag/);
  });

  it('lists the masters and their slots; slotOf is the server CLUSTER KEYSLOT', async () => {
    const masters = await clusterMasters(rig.url, { commandTimeoutMs: 2000 });
    expect(masters).toHaveLength(3);
    expect(masters.flatMap((m) => m.slots)).toEqual([
      [0, 5460],
      [5461, 10921],
      [10922, 16383],
    ]);
    for (const tag of tags) expect(slotOf(tag)).toBe(Number(await rig.client(rig.nodes[0].port).call('CLUSTER', 'KEYSLOT', `verk:{${tag}}:queue`)));
  });

  it('lands on the master of its slot for a tag on each master, and runs a script that builds keys from the prefix', async () => {
    const landed = new Set<number>();
    for (const tag of tags) {
      const { redis } = await connect(rig.url, tag);
      const port = await rig.masterPortFor(tag);
      expect(await redis.call('CLUSTER', 'MYID')).toBe(await rig.nodeId(port));
      landed.add(port);
      const prefix = `verk:{${tag}}:`;
      expect(await redis.eval(SCRIPT, 1, `${prefix}a`, prefix)).toBe('b');
      expect(await rig.client(port).get(`${prefix}a`)).toBe('a');
    }
    expect(landed.size).toBe(3);
  });

  it('after a manual failover of its master, the next commands reach the new master', async () => {
    const tag = tags[0];
    const { redis, log } = await connect(rig.url, tag);
    const oldMaster = await rig.masterPortFor(tag);
    const [replica] = await rig.replicasOf(oldMaster);
    const newId = await rig.nodeId(replica);
    const before = { moved: count('MOVED'), readonly: count('READONLY'), reconnect: count('reconnect') };
    const t0 = Date.now();
    const failover = rig.failover(replica);
    // Writes during and after the failover, until one succeeds on the new master.
    let i = 0;
    const result = await retryUntil(async () => {
      await redis.set(`verk:{${tag}}:w`, String(i++));
      if ((await redis.call('CLUSTER', 'MYID')) !== newId) throw new Error('OLD-MASTER still');
      return true;
    }, t0);
    await failover;
    const failoverMs = Date.now() - t0;
    console.log(
      `[measured] failover: first write on the new master ${result.ms}ms after CLUSTER FAILOVER (rig saw the cluster agree at ${failoverMs}ms); replies in between: ${result.errors.join(',') || 'none'}; MOVED +${count('MOVED') - before.moved}, READONLY +${count('READONLY') - before.readonly}, reconnects +${count('reconnect') - before.reconnect}`,
    );
    expect(count('MOVED') + count('READONLY') - before.moved - before.readonly).toBeGreaterThanOrEqual(1);
    expect(count('reconnect')).toBeGreaterThan(before.reconnect);
    expect(await rig.client(replica).get(`verk:{${tag}}:w`)).toBe(String(i - 1));
    expect(log.lines.filter((l) => l.level === 'warn').length).toBeLessThanOrEqual(1);
  });

  it('after its slot is migrated to another master, the next commands reach that master (ASK in between fails without a reconnect)', async () => {
    const tag = tags[1];
    const slot = slotOf(tag);
    const { redis } = await connect(rig.url, tag);
    const key = `verk:{${tag}}:moved`;
    await redis.set(key, 'v');
    const from = await rig.masterPortFor(tag);
    const to = await rig.masterPortFor(tags[2]);
    const toId = await rig.nodeId(to);
    const fromId = await rig.nodeId(from);
    let ask = 0;
    const before = { moved: count('MOVED'), ask: count('ASK'), reconnect: count('reconnect') };
    await rig.migrateSlot(slot, to, async () => {
      // The key has left; the slot is still the old master's (MIGRATING): it answers ASK.
      await expect(redis.get(key)).rejects.toThrow(/^ASK /);
      ask = count('ASK') - before.ask;
      expect(count('reconnect')).toBe(before.reconnect);
      expect(await redis.call('CLUSTER', 'MYID')).toBe(fromId);
    });
    const t0 = Date.now();
    const result = await retryUntil(async () => {
      const v = await redis.get(key);
      if ((await redis.call('CLUSTER', 'MYID')) !== toId) throw new Error('OLD-OWNER still');
      return v;
    }, t0);
    expect(result.value).toBe('v');
    expect(ask).toBe(1);
    expect(count('MOVED')).toBeGreaterThan(before.moved);
    const prefix = `verk:{${tag}}:`;
    expect(await redis.eval(SCRIPT, 1, `${prefix}a`, prefix)).toBe('b');
    console.log(
      `[measured] slot migration: first read on the new owner ${result.ms}ms after the last SETSLOT NODE; replies in between: ${result.errors.join(',') || 'none'}; ASK +${ask}, MOVED +${count('MOVED') - before.moved}`,
    );
  });

  it('skips a dead first seed and connects through the next one', async () => {
    const dead = await freePort();
    const url = rig.url.replace('redis+cluster://', `redis+cluster://127.0.0.1:${dead},`);
    const t0 = Date.now();
    const { redis } = await connect(url, tags[2]);
    const ms = Date.now() - t0;
    expect(await redis.call('CLUSTER', 'MYID')).toBe(await rig.nodeId(await rig.masterPortFor(tags[2])));
    expect(await clusterMasters(url, { commandTimeoutMs: 2000 })).toHaveLength(3);
    console.log(`[measured] first seed refused: ready through the second seed in ${ms}ms`);
  });

  it('a seed that accepts but never answers costs one ask bound, and the next reconnect starts at the seed that answered', async () => {
    const mute = await startProxy({ port: rig.nodes[0].port });
    mute.freeze();
    try {
      const url = rig.url.replace('redis+cluster://', `redis+cluster://127.0.0.1:${mute.port},`);
      const log = recordingLog();
      const redis = connectRedis(url, { name: 'mute-seed', log, slotTag: tags[2], commandTimeoutMs: 500 });
      clients.push(redis);
      const t0 = Date.now();
      await waitReady(redis, 10_000);
      const firstMs = Date.now() - t0;
      expect(firstMs).toBeGreaterThanOrEqual(450);
      const t1 = Date.now();
      redis.disconnect(true);
      await waitFor(async () => redis.status === 'ready' && (await redis.ping()) === 'PONG', { timeoutMs: 10_000, what: 'the reconnect' });
      const againMs = Date.now() - t1;
      expect(againMs).toBeLessThan(450);
      console.log(`[measured] mute first seed (ask bound 500ms): first connect ${firstMs}ms, a reconnect ${againMs}ms (starts at the seed that answered)`);
    } finally {
      await mute.close();
    }
  });

  it('after kill -9 of its master, the connection reaches the promoted replica', async () => {
    const tag = tags[2];
    const { redis } = await connect(rig.url, tag);
    const oldMaster = await rig.masterPortFor(tag);
    const [replica] = await rig.replicasOf(oldMaster);
    const newId = await rig.nodeId(replica);
    const before = count('reconnect');
    const t0 = Date.now();
    await rig.kill(oldMaster, 'SIGKILL');
    let i = 0;
    const result = await retryUntil(
      async () => {
        await redis.set(`verk:{${tag}}:k`, String(i++));
        if ((await redis.call('CLUSTER', 'MYID')) !== newId) throw new Error('OLD-MASTER still');
        return true;
      },
      t0,
      20_000,
    );
    expect(count('reconnect')).toBeGreaterThan(before);
    const kinds = [...new Set(result.errors)].join(',');
    console.log(
      `[measured] kill -9 of the master (cluster-node-timeout 1000): first write on the promoted replica ${result.ms}ms after the kill; ${result.errors.length} failed writes (${kinds}); reconnects +${count('reconnect') - before}`,
    );
  });
});

describe('no cluster reachable', () => {
  it('clusterMasters gives up after one round over the seeds, a one-shot connection after maxRetriesPerRequest more; a long-lived one keeps asking', async () => {
    const url = `redis+cluster://127.0.0.1:${await freePort()},127.0.0.1:${await freePort()}`;
    await expect(clusterMasters(url, { commandTimeoutMs: 500 })).rejects.toThrow(/no seed of the cluster gave a slot map \(2 asked; last: .*ECONNREFUSED/);
    const oneShot = connectRedis(url, { name: 'one-shot', slotTag: 'q', oneShot: true, maxRetriesPerRequest: 1, commandTimeoutMs: 500 });
    clients.push(oneShot);
    oneShot.on('error', () => undefined);
    await expect(oneShot.ping()).rejects.toThrow();
    await waitFor(() => oneShot.status === 'end', { timeoutMs: 5000, what: 'the one-shot client to end' });
    const log = recordingLog();
    const lasting = connectRedis(url, { name: 'lasting', log, slotTag: 'q', commandTimeoutMs: 500 });
    clients.push(lasting);
    let rounds = 0;
    lasting.on('error', () => rounds++);
    await waitFor(() => rounds >= 5, { timeoutMs: 10_000, what: 'five rounds' });
    expect(lasting.status).not.toBe('end');
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(log.lines[0].msg).toBe('Redis unreachable; retrying with backoff');
  });
});

describe('a one-node cluster', () => {
  let rig: ClusterRig;
  beforeAll(async () => {
    rig = await startCluster({ masters: 1 });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('all seeds down: the outage is logged once, the client asks again with backoff and reconnects when a seed is back', async () => {
    const { redis, log } = await connect(rig.url, 'q');
    let errors = 0;
    redis.on('error', () => errors++);
    const port = rig.nodes[0].port;
    await rig.kill(port, 'SIGKILL');
    let lastError = '';
    redis.on('error', (err: Error) => (lastError = err.message));
    await waitFor(() => errors >= 4, { timeoutMs: 15_000, what: 'four failed rounds over the seeds' });
    expect(lastError).toMatch(/ECONNREFUSED.*asking again in \d+ms/);
    const tDown = Date.now();
    await waitFor(() => errors >= 6, { timeoutMs: 15_000, what: 'two more rounds' });
    const twoRoundsMs = Date.now() - tDown;
    const t0 = Date.now();
    await rig.restart(port);
    const result = await retryUntil(() => redis.set('verk:{q}:k', 'v'), t0);
    const warns = log.lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0].msg).toBe('Redis connection lost; reconnecting');
    await waitFor(() => log.lines.some((l) => l.msg === 'Redis reachable again'), { timeoutMs: 5000, what: 'the end of the outage logged' });
    expect(log.lines.filter((l) => l.msg === 'Redis reachable again')).toHaveLength(1);
    console.log(
      `[measured] all seeds down: ${errors} failed rounds logged as 1 warning (rounds 5-6 took ${twoRoundsMs}ms: backoff); first write ${result.ms}ms after the seed restarted`,
    );
  });
});
