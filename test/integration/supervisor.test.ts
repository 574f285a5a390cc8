// The supervisor's lifecycle in process, with a fake pool (no worker processes) and a real
// private redis-server: start registers and forks `processes` nodes; a child that dies has its
// jobs handed back and is replaced under a new id; a hung child is killed; a stop waits for the
// children up to its deadline and then kills them; a registration Redis refuses (OOM) is retried
// with backoff until the pool is full again, and /livez reports the shortfall meanwhile; a stop
// during start-up leaves no registration behind; a lease that cannot be renewed fences its node.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { testConfig } from '../helpers/config.js';
import { FakePool } from '../helpers/fake-pool.js';
import { waitFor } from '../helpers/wait.js';
import { Supervisor } from '../../src/runner/supervisor.js';
import { liveness } from '../../src/runner/health-server.js';
import { makeKeys } from '../../src/redis/keys.js';
import { silentLogger } from '../../src/util/logger.js';
import type { Config } from '../../src/config/schema.js';

let server: RedisServer;
const keys = makeKeys('');
const running: Supervisor[] = [];

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop().catch(() => undefined)));
  await server.stop();
});
beforeEach(async () => {
  await server.client.config('SET', 'maxmemory', '0');
  await server.client.flushdb();
});

function supervisor(over: Partial<Config> = {}): { sup: Supervisor; pool: FakePool } {
  const pool = new FakePool();
  const config = testConfig({
    redisUrl: server.url,
    processes: 2,
    heartbeatInterval: 100,
    nodeTtl: 900,
    reaperInterval: 200,
    shutdownTimeout: 300,
    killGrace: 100,
    hangTimeout: 400,
    degradedTimeout: 1000,
    ...over,
  });
  const sup = new Supervisor(config, silentLogger, { pool });
  running.push(sup);
  return { sup, pool };
}

const payload = (jid: string) => `{"class":"T","args":[],"queue":"default","jid":"${jid}"}`;

describe('supervisor lifecycle (fake pool, real Redis)', () => {
  it('start registers and forks `processes` nodes, each with a live heartbeat key', async () => {
    const { sup, pool } = supervisor();
    await sup.start();
    expect(sup.state).toBe('running');
    expect(pool.forked).toHaveLength(2);
    for (const id of pool.forked) {
      expect(await server.client.sismember(keys.nodes, id)).toBe(1);
      expect(await server.client.exists(keys.node(id))).toBe(1);
    }
    expect(liveness(sup).ok).toBe(true);
    await sup.stop();
    expect(await server.client.scard(keys.nodes)).toBe(0);
  });

  it('a child that dies has its jobs handed back at once and is replaced under a new id', async () => {
    const { sup, pool } = supervisor();
    await sup.start();
    const [victim] = pool.forked;
    await server.client.sadd(keys.nodeQueues(victim), 'default');
    await server.client.lpush(keys.inprogress('default', victim), payload('a1'), payload('a2'));
    await pool.exit(victim, 1);
    expect(await server.client.lrange(keys.queue('default'), 0, -1)).toHaveLength(2);
    expect(await server.client.sismember(keys.nodes, victim)).toBe(0);
    await waitFor(() => pool.children.size === 2, { what: 'a replacement' });
    expect(pool.forked).toHaveLength(3);
    expect(pool.forked[2]).not.toBe(victim);
    expect(sup.recovered).toBe(2);
    await sup.stop();
  });

  it("records its nodes' lives in the fleet timeline: joined, exited (with what was handed back), fenced, left; merged with the reaps", async () => {
    const { sup, pool } = supervisor();
    await sup.start();
    const [victim, other] = pool.forked;
    await server.client.sadd(keys.nodeQueues(victim), 'default');
    await server.client.lpush(keys.inprogress('default', victim), payload('t1'));
    await pool.exit(victim, 1);
    await waitFor(() => pool.children.size === 2, { what: 'a replacement' });
    // The node is reaped behind its back (its registration gone): its next beat is refused, it is fenced.
    await server.client.srem(keys.nodes, other);
    await waitFor(() => pool.messagesTo(other).some((m) => m.type === 'fence'), { what: 'the fence', timeoutMs: 5_000 });
    await sup.stop();
    const read = async () => (await server.client.lrange(keys.events, 0, -1)).map((e) => JSON.parse(e)).reverse();
    const events = await waitFor(async () => ((await read()).filter((e) => e.kind === 'left').length >= 1 ? read() : undefined), {
      what: 'the events',
      timeoutMs: 3000,
    }).catch(async (err) => {
      console.log(JSON.stringify(await read()));
      throw err;
    });
    const of = (n: string) => events.filter((e) => e.node === n).map((e) => e.kind);
    expect(of(victim)).toEqual(['joined', 'exited']);
    expect(events.find((e) => e.node === victim && e.kind === 'exited').detail).toBe('code 1; 1 jobs handed back');
    expect(of(other).slice(0, 2)).toEqual(['joined', 'fenced']);
    expect(events.find((e) => e.kind === 'fenced').detail).toContain('the node was reaped');
    expect(events.every((e) => e.identity === events[0].identity && typeof e.at === 'number')).toBe(true);
    // Sorted by Redis time, merged with the recovery events the reaps wrote.
    const { openAdmin } = await import('../../src/api/admin-context.js');
    const { listFleetEvents } = await import('../../src/api/fleet-events.js');
    const { listRecoveries } = await import('../../src/api/recoveries.js');
    const admin = openAdmin({ redisUrl: server.url });
    try {
      const timeline = await listFleetEvents(admin, await listRecoveries(admin.redis, admin.keys, 50), 50);
      expect(timeline.events.map((e) => e.at)).toEqual([...timeline.events.map((e) => e.at)].sort((a, b) => b - a));
      expect(timeline.events.some((e) => e.kind === 'reaped' && e.node === victim)).toBe(true);
      expect(timeline.unreadable).toBe(0);
    } finally {
      await admin.close();
    }
  });

  it('a child whose event loop stops answering is killed after hangTimeout and replaced', async () => {
    const { sup, pool } = supervisor({ processes: 1 });
    await sup.start();
    const [hung] = pool.forked;
    pool.hung.add(hung);
    await waitFor(() => pool.killed.some((k) => k.id === hung && k.signal === 'SIGKILL'), { what: 'the hung child to be killed', timeoutMs: 5000 });
    await waitFor(() => pool.children.size === 1 && !pool.children.has(hung), { what: 'a replacement' });
    await sup.stop();
  });

  it('stop waits for children up to the deadline, then kills the ones that did not exit', async () => {
    const { sup, pool } = supervisor({ processes: 2 });
    await sup.start();
    const [stubborn, polite] = pool.forked;
    pool.ignoreShutdown.add(stubborn);
    const t0 = Date.now();
    await sup.stop();
    const took = Date.now() - t0;
    expect(pool.messagesTo(polite).some((m) => m.type === 'shutdown')).toBe(true);
    expect(pool.killed).toEqual([{ id: stubborn, signal: 'SIGKILL' }]);
    // shutdownTimeout 300 + max(killGrace, 2000): killed at the deadline, not before.
    expect(took).toBeGreaterThanOrEqual(2300);
    expect(sup.state).toBe('stopped');
    expect(await server.client.scard(keys.nodes)).toBe(0);
  });

  it('a registration Redis refuses (OOM) is retried with backoff until the pool is full again; /livez reports the shortfall meanwhile', async () => {
    const { sup, pool } = supervisor({ processes: 2, degradedTimeout: 1000 });
    await sup.start();
    // Redis refuses every write: the next registration fails until memory is available again.
    await server.client.config('SET', 'maxmemory-policy', 'noeviction');
    await server.client.config('SET', 'maxmemory', '1');
    await pool.exit(pool.forked[0], 1).catch(() => undefined);
    expect(pool.children.size).toBe(1);
    const unhealthy = await waitFor(
      () => {
        const l = liveness(sup);
        return l.reasons.some((r) => r.includes('worker processes')) ? l : undefined;
      },
      { what: '/livez to fail on the shortfall', timeoutMs: 8000 },
    );
    expect(unhealthy.ok).toBe(false);
    expect(unhealthy.reasons.join(' ')).toMatch(/[01] of 2 worker processes/);
    await server.client.config('SET', 'maxmemory', '0');
    await waitFor(() => pool.children.size === 2, { what: 'the pool to be full again', timeoutMs: 15_000 });
    await waitFor(() => liveness(sup).ok, { what: '/livez to pass again', timeoutMs: 3000 });
    await sup.stop();
  });

  it('a stop during start-up spawns nothing more and leaves no registration behind', async () => {
    const { sup, pool } = supervisor({ processes: 4 });
    let stopped: Promise<void> | undefined;
    pool.onFork = () => (stopped ??= sup.stop());
    await sup.start();
    await stopped;
    expect(pool.forked).toHaveLength(1);
    expect(sup.state).toBe('stopped');
    expect(await server.client.scard(keys.nodes)).toBe(0);
    expect(await server.client.keys('verk:node:*')).toEqual([]);
  });

  it('a lease that cannot be renewed fences its node before it may expire; a short stall does not', async () => {
    const { sup, pool } = supervisor({ processes: 1, heartbeatInterval: 100, nodeTtl: 900 });
    await sup.start();
    const [id] = pool.forked;
    // A 300 ms write pause (< nodeTtl - fenceMargin = 800 ms): beats wait, nothing is fenced.
    await server.client.client('PAUSE', '300', 'WRITE');
    await new Promise((r) => setTimeout(r, 700));
    expect(pool.messagesTo(id).some((m) => m.type === 'fence')).toBe(false);
    // A pause past the lease: the node is told to fence itself before its key can expire.
    await server.client.client('PAUSE', '2000', 'WRITE');
    await waitFor(() => pool.messagesTo(id).some((m) => m.type === 'fence'), { what: 'a fence', timeoutMs: 3000 });
    const pttl = await server.client.pttl(keys.node(id));
    console.log(`[measured] write pause past the lease: node fenced with ${pttl} ms left on its heartbeat key (nodeTtl 900 ms)`);
    expect(pttl).toBeGreaterThan(0);
    await server.client.client('UNPAUSE');
    await waitFor(() => pool.children.size === 1 && !pool.children.has(id), { what: 'the fenced node replaced' });
    await sup.stop();
  });
});
