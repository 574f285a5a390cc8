// Reconcile after a failover, in process against a private Redis (issue 16 item 3): the
// supervisor's FailoverWatch sees a new server (a restart without persistence: new run_id, no
// data, as a promoted replica that missed the registrations) and registers its live nodes again,
// but leaves a node a recovery event shows was reaped to fencing; a queue worker's reconcile
// takes back from the queue a job it runs whose fetch the new primary never got, and nothing
// when its node was fenced. Durable writes: WAIT confirms on a server with a replica, reports a
// write on one without. Failover replies (READONLY to a write, UNBLOCKED to a blocked BLMOVE)
// drop the connection, are counted, and the next command works once the server is a master again.
import { describe, expect, it } from 'vitest';
import { freePort, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { fakeRegistry, job, keys, latch, workerKit } from '../helpers/engine-kit.js';
import { testConfig } from '../helpers/config.js';
import { waitFor } from '../helpers/wait.js';
import { connectRedis } from '../../src/redis/connection.js';
import { Scripts } from '../../src/redis/scripts.js';
import { NodeNotRegisteredError, reconcileHeld } from '../../src/core/reconcile.js';
import type { RunningEntry } from '../../src/core/settler.js';
import { FailoverWatch } from '../../src/runner/failover-watch.js';
import { redisEvents } from '../../src/redis/failover-stats.js';
import { Client, UnreplicatedWriteError } from '../../src/api/client.js';
import { confirmWrite, epochOf } from '../../src/redis/replication.js';
import { createLogger, silentLogger } from '../../src/util/logger.js';
import { Reaper } from '../../src/core/duties/reaper.js';

let server: RedisServer;
usePrivateRedis((s) => (server = s));

const entry = (raw: string, closed = false): RunningEntry => ({
  raw: Buffer.from(raw),
  jid: '',
  class: 'T',
  queue: 'q',
  startedAt: Date.now(),
  started: true,
  closed,
});

/**
 * A worker of queue q (node `node`) running job(1), whose handler waits for the test. finishOnce:
 * lets it finish and checks it was acked, having run once.
 */
async function runningJob(node: string, opts: Parameters<typeof workerKit>[3]) {
  const done = latch();
  let runs = 0;
  const kit = await workerKit(
    server.url,
    node,
    fakeRegistry({
      T: () => {
        runs++;
        return done.promise;
      },
    }),
    opts,
  );
  const held = keys.inprogress('q', node);
  await server.client.rpush(keys.queue('q'), job(1));
  kit.worker.start();
  await waitFor(async () => runs === 1 && (await server.client.llen(held)) === 1, { what: 'the job running' });
  return {
    kit,
    held,
    runs: () => runs,
    async finishOnce() {
      done.open();
      await waitFor(async () => (await server.client.llen(held)) === 0, { what: 'the job acked' });
      await kit.worker.settleWrites();
      expect(runs).toBe(1);
    },
    async close() {
      done.open();
      await kit.close();
    },
  };
}

describe('a worker reconciles with a primary that missed its fetch', () => {
  it('takes back from the queue a job it runs and no longer holds; leaves a settled one', async () => {
    const redis = connectRedis(server.url, { name: 'test:n1' });
    const scripts = new Scripts(redis, keys);
    try {
      await scripts.register('n1', 60_000, 60_000, { host: 'test' });
      // The new primary: j1 and j2 still queued (their fetch was not replicated), j3 held.
      await server.client.rpush(keys.queue('q'), job(9), job(1), job(2));
      await server.client.rpush(keys.inprogress('q', 'n1'), job(3));
      const before = redisEvents().reclaimed ?? 0;
      // The node runs j1 and j3; j2's ack is in flight (closed): not taken back.
      await reconcileHeld(scripts, 'q', 'n1', [entry(job(1)), entry(job(3)), entry(job(2), true)], silentLogger);
      expect(await server.client.lrange(keys.queue('q'), 0, -1)).toEqual([job(9), job(2)]);
      expect((await server.client.lrange(keys.inprogress('q', 'n1'), 0, -1)).sort()).toEqual([job(1), job(3)]);
      expect((redisEvents().reclaimed ?? 0) - before).toBe(1);
    } finally {
      redis.disconnect();
    }
  });

  it('every slot busy: the reconcile a reconnect asks for takes the running job back at once, not once it finished', async () => {
    const r = await runningJob('n3', { concurrency: 1 });
    try {
      // The new primary missed the fetch: the job is queued again, not held.
      await server.client.multi().del(r.held).rpush(keys.queue('q'), job(1)).exec();
      const before = redisEvents().reclaimed ?? 0;
      r.kit.worker.requestReconcile();
      // Before the fix the reconcile waited for a free slot: the job was acked where it no longer
      // was, then fetched and run again.
      await waitFor(async () => (await server.client.llen(keys.queue('q'))) === 0, { what: 'the running job taken back while it runs', timeoutMs: 3_000 });
      expect(await server.client.lrange(r.held, 0, -1)).toEqual([job(1)]);
      expect((redisEvents().reclaimed ?? 0) - before).toBe(1);
      await r.finishOnce();
      expect(r.kit.events.rejected).toBe(0);
    } finally {
      await r.close();
    }
  });

  it('an idle wait sent again after a reconnect takes back the job the node runs: held once, not started twice', async () => {
    const r = await runningJob('n5', { concurrency: 2, config: { blockTimeout: 5_000 } });
    try {
      await waitFor(async () => /blocked_clients:1/.test(await server.client.info('clients')), { what: 'the idle wait blocked' });
      const id = /id=(\d+) [^\n]*name=test:n5:block/.exec(String(await server.client.call('CLIENT', 'LIST')))![1];
      // The new primary missed the fetch, and the wait's connection drops (ioredis sends the
      // BLMOVE and its claim again on the new connection, where they take the job back).
      await server.client.multi().del(r.held).rpush(keys.queue('q'), job(1)).call('CLIENT', 'KILL', 'ID', id).exec();
      await waitFor(async () => (await server.client.llen(keys.queue('q'))) === 0 && (await server.client.llen(r.held)) === 1, {
        what: 'the job claimed again',
      });
      // Before the fix the claimed job started a second time in the same node.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(r.runs()).toBe(1);
      expect(await server.client.lrange(r.held, 0, -1)).toEqual([job(1)]);
      await r.finishOnce();
      expect(r.kit.events.rejected).toBe(0);
      expect(await server.client.llen(keys.queue('q'))).toBe(0);
    } finally {
      await r.close();
    }
  });

  it('a fenced node (heartbeat key gone) takes nothing back', async () => {
    const redis = connectRedis(server.url, { name: 'test:n2' });
    const scripts = new Scripts(redis, keys);
    try {
      await server.client.rpush(keys.queue('q'), job(1));
      expect(await scripts.reclaim('q', 'n2', [Buffer.from(job(1))], 100)).toBe(-1);
      await expect(reconcileHeld(scripts, 'q', 'n2', [entry(job(1))], silentLogger)).rejects.toBeInstanceOf(NodeNotRegisteredError);
      expect(await server.client.lrange(keys.queue('q'), 0, -1)).toEqual([job(1)]);
    } finally {
      redis.disconnect();
    }
  });

  it('registration lost with the fetch: the worker fetches nothing until it is registered again, then takes its job back', async () => {
    const r = await runningJob('n4', { concurrency: 1 });
    try {
      // The new primary has neither the registration nor the fetch (both came just before the failover).
      await server.client.multi().del(r.held, keys.node('n4')).srem(keys.nodes, 'n4').rpush(keys.queue('q'), job(1)).exec();
      r.kit.worker.requestReconcile();
      // Before the fix the reclaim was refused and the reconcile counted as done: the job stayed
      // queued, to be fetched and run again once it finished.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(r.kit.events.fenced).toEqual([]);
      expect(await server.client.lrange(keys.queue('q'), 0, -1)).toEqual([job(1)]);
      // Its supervisor registers it again: the retried reconcile takes the job back.
      await r.kit.scripts.register('n4', 60_000, 60_000, { host: 'test' });
      await waitFor(async () => (await server.client.llen(keys.queue('q'))) === 0, { what: 'the running job taken back', timeoutMs: 5_000 });
      expect(await server.client.lrange(r.held, 0, -1)).toEqual([job(1)]);
      await r.finishOnce();
      expect(r.kit.events.fenced).toEqual([]);
    } finally {
      await r.close();
    }
  });
});

describe('the supervisor notices a new server', () => {
  it('registers its live nodes again after a restart that lost them; a reaped node is left to fencing', async () => {
    const own = await startRedis();
    const redis = connectRedis(own.url, { name: 'test:sup' });
    const scripts = new Scripts(redis, keys);
    const config = testConfig({ redisUrl: own.url, nodeTtl: 5_000 });
    const registered: string[] = [];
    const watch = new FailoverWatch({
      redis,
      scripts,
      config,
      log: silentLogger,
      nodes: () => ['A', 'B'],
      register: async (id) => {
        registered.push(id);
        await scripts.register(id, config.nodeTtl, config.nodeTtl, { host: 'test' });
      },
    });
    watch.attach();
    try {
      await waitFor(() => watch.serverId !== undefined, { what: 'the first server seen' });
      await scripts.register('A', 60_000, 60_000, {});
      await scripts.register('B', 60_000, 60_000, {});
      expect(await watch.tick()).toBe(false); // same server: no pass
      const first = watch.serverId;
      await own.restart(); // no AOF: the new server has none of the data
      await waitFor(() => watch.failovers === 1 && registered.length === 2, { what: 'the new server noticed and the nodes registered', timeoutMs: 15_000 });
      expect(watch.serverId).not.toBe(first);
      expect(registered.sort()).toEqual(['A', 'B']);
      expect((await own.client.smembers(keys.nodes)).sort()).toEqual(['A', 'B']);
      expect(watch.repairs).toEqual({ reregistered: 2, reaped: 0, orphaned: 0, unowned: 0 });
      // A beat refused just before the pass registered A again (they raced): A is kept, not fenced.
      expect(await watch.keepAfterRefusal('A')).toBe(true);
      // B is reaped for real (a recovery event names it), then its heartbeat is refused: fenced, not re-registered.
      await own.client.srem(keys.nodes, 'B');
      await own.client.lpush(keys.recoveries, JSON.stringify({ node: 'B', moved: 3 }));
      expect(await watch.keepAfterRefusal('B')).toBe(false);
      expect(watch.repairs.reaped).toBe(1);
      // A's registration lost again within 2 × nodeTtl of the failover: kept.
      await own.client.srem(keys.nodes, 'A');
      expect(await watch.keepAfterRefusal('A')).toBe(true);
    } finally {
      redis.disconnect();
      await own.stop();
    }
  }, 30_000);
});

describe('the pass after a failover hands back the lists of nodes that are gone', () => {
  it('finds them (the reaper does not), requeues those a verk node left, leaves the unknown ones, logs once', async () => {
    // Persistence on: the restart is a new server (new run_id) holding the state crafted below.
    const own = await startRedis({ appendonly: true });
    const redis = connectRedis(own.url, { name: 'test:sup' });
    const scripts = new Scripts(redis, keys);
    const config = testConfig({ redisUrl: own.url, nodeTtl: 5_000 });
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ format: 'json', level: 'info', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const watch = new FailoverWatch({ redis, scripts, config, log, nodes: () => ['A'], register: async () => undefined });
    watch.attach();
    try {
      await waitFor(() => watch.serverId !== undefined, { what: 'the first server seen' });
      await scripts.register('A', 60_000, 60_000, {});
      await scripts.register('alive', 60_000, 60_000, {});
      await own.client.rpush(keys.inprogress('q', 'alive'), job(10));
      // 'gone': a verk node (the timeline says it joined), neither registered nor alive, two jobs held.
      await scripts.fleetEvent('joined', 'gone', 'host:1:x', 'queues q:5');
      await own.client.rpush(keys.inprogress('q', 'gone'), job(1), job(2));
      // A claim of a node that no longer exists (only verk writes claim lists; the job never started).
      await own.client.rpush(keys.nodeClaim('gone2', 'q'), job(3));
      // Nothing says who wrote this one: it may be a live fixed-id Elixir verk node's.
      await own.client.rpush(keys.inprogress('q', 'elixir-1'), job(4));
      // The reaper visits registered nodes only: 'gone' keeps its jobs.
      await new Reaper(scripts, config, silentLogger, 'test-reaper').pass();
      expect(await own.client.llen(keys.inprogress('q', 'gone'))).toBe(2);
      expect(await own.client.llen(keys.queue('q'))).toBe(0);
      await own.restart();
      await waitFor(() => watch.failovers === 1 && lines.some((l) => String(l.msg).startsWith('Redis is a new server')), {
        what: 'the new server noticed and the pass logged',
        timeoutMs: 15_000,
      });
      // Handed back to the fetch end of the queue (the right), in their order.
      expect(await own.client.lrange(keys.queue('q'), 0, -1)).toEqual([job(1), job(2), job(3)]);
      expect(await own.client.exists(keys.inprogress('q', 'gone'), keys.nodeClaim('gone2', 'q'))).toBe(0);
      expect(await own.client.lrange(keys.inprogress('q', 'elixir-1'), 0, -1)).toEqual([job(4)]);
      expect(await own.client.lrange(keys.inprogress('q', 'alive'), 0, -1)).toEqual([job(10)]);
      expect(watch.repairs).toMatchObject({ orphaned: 3, unowned: 1 });
      const pass = lines.filter((l) => String(l.msg).startsWith('Redis is a new server'));
      expect(pass).toHaveLength(1);
      expect(pass[0]).toMatchObject({ orphaned: 3, orphan_lists: 2, unowned: 1, unowned_lists: [keys.inprogress('q', 'elixir-1')] });
      // The same server again: no second pass.
      expect(await watch.tick()).toBe(false);
    } finally {
      redis.disconnect();
      await own.stop();
    }
  }, 30_000);
});

describe('durable writes', () => {
  it('a server without a replica: an enqueue throws UnreplicatedWriteError (the job is queued), a script write is reported', async () => {
    const client = new Client({ redisUrl: server.url, durability: 'replicated', durabilityTimeout: 50 });
    try {
      await expect(client.enqueue({ class: 'T', args: [1] })).rejects.toBeInstanceOf(UnreplicatedWriteError);
      expect(await server.client.llen('queue:default')).toBe(1);
      const before = redisEvents().unreplicated ?? 0;
      const unconfirmed: string[] = [];
      const redis = connectRedis(server.url, { name: 'test:durable' });
      await redis.ping();
      const scripts = new Scripts(redis, keys, { timeoutMs: 50, onUnconfirmed: (w) => unconfirmed.push(w) });
      await scripts.handback('default', 'nobody', [Buffer.from('x')]);
      expect(unconfirmed).toEqual(['handback']);
      expect((redisEvents().unreplicated ?? 0) - before).toBe(1);
      redis.disconnect();
    } finally {
      await client.close();
    }
  });

  it('with a replica: confirmed; a write answered before a reconnect is sent again first', async () => {
    const replica = await startRedis();
    await server.client.config('SET', 'repl-diskless-sync-delay', '0');
    await replica.client.replicaof('127.0.0.1', server.port);
    await waitFor(async () => /master_link_status:up/.test(await replica.client.info('replication')), { what: 'replica linked', timeoutMs: 10_000 });
    const client = new Client({ redisUrl: server.url, durability: 'replicated', durabilityTimeout: 2000 }); // a loaded CI box can starve the replica for a second
    const redis = connectRedis(server.url, { name: 'test:durable2' });
    try {
      await client.enqueue({ class: 'T', args: [1] });
      await redis.ping();
      const since = epochOf(redis);
      await redis.set('k', '1');
      // The connection is re-made between the write and its WAIT (a failover): the write is redone.
      await server.client.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await waitFor(() => epochOf(redis) !== since, { what: 'the reconnect' });
      let redone = 0;
      const ok = await confirmWrite(redis, since, 'set', async () => void redone++, { timeoutMs: 1000 });
      expect(ok).toBe(true);
      expect(redone).toBe(1);
    } finally {
      redis.disconnect();
      await client.close();
      await replica.stop();
    }
  }, 30_000);
});

describe('failover replies', () => {
  it('READONLY and UNBLOCKED drop the connection and are counted; the client works again when the server is a master', async () => {
    const master = await startRedis();
    const demoted = await startRedis();
    const redis = connectRedis(demoted.url, { name: 'test:writer' });
    const blocking = connectRedis(demoted.url, { name: 'test:blocked', blockingMs: 10_000 });
    try {
      await Promise.all([redis.ping(), blocking.ping()]);
      const before = redisEvents();
      // A BLMOVE blocked on the server when it turns into a replica gets UNBLOCKED.
      const blocked = blocking.blmove('q', 'p', 'RIGHT', 'LEFT', 10).then(
        () => 'answered',
        (e: Error) => e.message,
      );
      await waitFor(async () => /blocked_clients:1/.test(await demoted.client.info('clients')), { what: 'the BLMOVE blocked' });
      await demoted.client.replicaof('127.0.0.1', master.port);
      expect(await blocked).toMatch(/^UNBLOCKED/);
      const write = await redis.set('k', '1').then(
        () => 'written',
        (e: Error) => e.message,
      );
      expect(write).toMatch(/^READONLY/);
      const after = redisEvents();
      expect((after.UNBLOCKED ?? 0) - (before.UNBLOCKED ?? 0)).toBe(1);
      expect((after.READONLY ?? 0) - (before.READONLY ?? 0)).toBeGreaterThanOrEqual(1);
      await waitFor(() => (redisEvents().reconnect ?? 0) - (before.reconnect ?? 0) >= 2, { what: 'both connections re-made' });
      // Promoted again (a failover back): the same clients write and block again.
      await demoted.client.replicaof('NO', 'ONE');
      await waitFor(
        async () =>
          await redis.set('k', '2').then(
            () => true,
            () => false,
          ),
        { what: 'a write accepted', timeoutMs: 10_000 },
      );
      expect(await blocking.blmove('q', 'p', 'RIGHT', 'LEFT', 0.05)).toBeNull();
      // A replica that lost its master and must not serve stale data answers MASTERDOWN: counted too.
      await demoted.client.config('SET', 'replica-serve-stale-data', 'no');
      await demoted.client.replicaof('127.0.0.1', await freePort());
      const read = await redis.get('k').then(
        () => 'read',
        (e: Error) => e.message,
      );
      expect(read).toMatch(/^MASTERDOWN/);
      expect((redisEvents().MASTERDOWN ?? 0) - (before.MASTERDOWN ?? 0)).toBe(1);
    } finally {
      redis.disconnect();
      blocking.disconnect();
      await demoted.stop();
      await master.stop();
    }
  }, 30_000);
});
