// Two private redis-servers for READONLY faults: A is the master verk uses; demoteA() makes it a
// replica of B (writes get READONLY, as after a failover that demoted the master) and promoteA()
// makes it master again. The choreography keeps every byte: B first becomes a replica of A and
// catches up while A's writes are paused, then B is promoted and A follows it (its resync loads
// B's identical copy); on promotion A is made master again with the same data and B follows A.
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from './redis-server.js';
import { waitFor } from './wait.js';

export interface RedisPair {
  a: RedisServer;
  b: RedisServer;
  demoteA(): Promise<void>;
  promoteA(): Promise<void>;
  stop(): Promise<void>;
}

async function info(redis: Redis, field: string): Promise<string | undefined> {
  const text = await redis.info('replication');
  return new RegExp(`^${field}:(.*)$`, 'm').exec(text)?.[1]?.trim();
}

/** Makes `replica` follow `master` and waits until it has every write the master has. */
async function follow(replica: RedisServer, master: RedisServer): Promise<void> {
  await replica.client.replicaof('127.0.0.1', master.port);
  await waitFor(async () => (await info(replica.client, 'master_link_status')) === 'up', { what: `replica ${replica.port} linked to ${master.port}`, timeoutMs: 10_000 });
  await waitFor(
    async () => {
      const [m, r] = await Promise.all([info(master.client, 'master_repl_offset'), info(replica.client, 'slave_repl_offset')]);
      return m !== undefined && m === r;
    },
    { what: `replica ${replica.port} caught up`, timeoutMs: 10_000 },
  );
}

export async function startRedisPair(): Promise<RedisPair> {
  const a = await startRedis();
  const b = await startRedis();
  // The test's own clients must not be disconnected by a role change: they only read afterwards.
  return {
    a,
    b,
    async demoteA() {
      // Pause A's writers, copy A to B, promote B, then A follows B: no write is lost in between.
      await a.client.call('CLIENT', 'PAUSE', '10000', 'WRITE');
      try {
        await follow(b, a);
        await b.client.replicaof('NO', 'ONE');
        await a.client.replicaof('127.0.0.1', b.port);
      } finally {
        await a.client.call('CLIENT', 'UNPAUSE');
      }
      await waitFor(async () => (await info(a.client, 'master_link_status')) === 'up', { what: 'A linked to B', timeoutMs: 10_000 });
    },
    async promoteA() {
      // Nobody wrote to B while A was a replica (verk only talks to A), so A already has B's data.
      await a.client.replicaof('NO', 'ONE');
      await follow(b, a);
      await b.client.replicaof('NO', 'ONE');
    },
    async stop() {
      await a.stop();
      await b.stop();
    },
  };
}
