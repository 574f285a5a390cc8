// src/redis/connection.ts through a TCP proxy the test controls: a command on a half-open
// (stale) connection is rejected within its bound, the client drops that connection once and
// reconnects, and the next command succeeds; a blocking wait is bounded above its block time.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { connectRedis, waitReady } from '../../src/redis/connection.js';
import { recordingLog } from '../helpers/recording-log.js';

let server: RedisServer;
let proxy: TcpProxy;
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await proxy?.close();
});

async function connect(opts: { commandTimeoutMs: number; blockingMs?: number; autoPipeline?: boolean }) {
  proxy = await startProxy({ port: server.port });
  const log = recordingLog();
  const redis = connectRedis(proxy.url, { name: 'test', log, ...opts });
  clients.push(redis);
  await waitReady(redis, 5000);
  return { redis, log };
}

/** Rejection (or value) of a promise and how long it took. */
async function timed<T>(p: Promise<T>): Promise<{ ms: number; error?: Error; value?: T }> {
  const t0 = Date.now();
  try {
    const value = await p;
    return { ms: Date.now() - t0, value };
  } catch (error) {
    return { ms: Date.now() - t0, error: error as Error };
  }
}

describe('half-open connections', () => {
  it('a command on a stale connection rejects within its bound; the client reconnects once and the next command succeeds', async () => {
    const { redis, log } = await connect({ commandTimeoutMs: 300, autoPipeline: true });
    expect(await redis.set('k', 'before')).toBe('OK');
    expect(proxy.accepted).toBe(1);
    proxy.stale();
    // Several commands in flight on the dead connection: all fail, one reconnect, one log line.
    const results = await Promise.all([redis.get('k'), redis.incr('n'), redis.ping()].map((p: Promise<unknown>) => timed(p)));
    for (const r of results) {
      expect(r.error?.message).toMatch(/timed out|presumed dead/);
      expect(r.ms).toBeLessThan(300 + 2000);
    }
    await waitFor(() => redis.status === 'ready' && proxy.accepted === 2, { what: 'a reconnect through the proxy', timeoutMs: 5000 });
    const next = await timed(redis.get('k'));
    const warnings = log.lines.filter((l) => l.level === 'warn');
    console.log(
      `[measured] stale connection: commands rejected after ${results.map((r) => r.ms).join('/')} ms (bound 300 ms), reconnects ${proxy.accepted - 1}, next command ${next.value} in ${next.ms} ms; warnings ${warnings.length}: ${warnings.map((w) => w.fields?.error).join('; ')}`,
    );
    expect(next.value).toBe('before');
    expect(proxy.accepted).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(log.lines.filter((l) => l.msg === 'Redis reachable again')).toHaveLength(1);
    // A command that timed out is failed, not re-sent on the new connection (its outcome was unknown).
    expect(await server.client.get('n')).toBeNull();
  });

  it('a blocking wait is bounded above its block time: it returns on a live connection and rejects on a stale one', async () => {
    const { redis } = await connect({ commandTimeoutMs: 300, blockingMs: 1000 });
    // Live connection, empty list: the 1 s block ends normally with null although it outlasts commandTimeoutMs.
    const live = await timed(redis.blmove('empty', 'empty', 'RIGHT', 'RIGHT', 1));
    expect(live.error).toBeUndefined();
    expect(live.value).toBeNull();
    proxy.stale();
    const stale = await timed(redis.blmove('empty', 'empty', 'RIGHT', 'RIGHT', 1));
    await waitFor(() => redis.status === 'ready' && proxy.accepted === 2, { what: 'a reconnect', timeoutMs: 5000 });
    await server.client.lpush('q', 'job');
    const after = await timed(redis.blmove('q', 'q2', 'RIGHT', 'LEFT', 1));
    console.log(
      `[measured] blocking 1 s wait: live ${live.ms} ms -> null; stale rejected after ${stale.ms} ms (bound 1300 ms): ${stale.error?.message}; after reconnect ${after.value} in ${after.ms} ms`,
    );
    expect(stale.error?.message).toMatch(/timed out|presumed dead/);
    expect(stale.ms).toBeGreaterThanOrEqual(1000);
    expect(stale.ms).toBeLessThan(1300 + 2000);
    expect(after.value).toBe('job');
  });

  it('a connection stalled (frozen) past the bound is re-made; the frozen socket is dropped, a new one serves', async () => {
    const { redis } = await connect({ commandTimeoutMs: 300 });
    proxy.freeze();
    const stalled = await timed(redis.ping());
    expect(stalled.error?.message).toMatch(/timed out|presumed dead/);
    await proxy.heal();
    await waitFor(() => redis.status === 'ready', { what: 'a reconnect after the stall', timeoutMs: 5000 });
    expect(await redis.ping()).toBe('PONG');
    expect(proxy.accepted).toBeGreaterThanOrEqual(2);
  });

  it('refused and reset connections: commands wait (offline queue) and succeed once Redis is reachable again', async () => {
    const { redis } = await connect({ commandTimeoutMs: 2000 });
    await proxy.refuse();
    proxy.reset();
    const pending = timed(redis.set('after-reset', '1'));
    await new Promise((r) => setTimeout(r, 300));
    await proxy.heal();
    const r = await pending;
    console.log(`[measured] reset + refused 300 ms: the queued SET ${r.error ? `failed: ${r.error.message}` : r.value} after ${r.ms} ms`);
    expect(r.value).toBe('OK');
    expect(await server.client.get('after-reset')).toBe('1');
  });
});

describe('a client ioredis ends by itself', () => {
  // ioredis ends a client for good when its connector fails (a Sentinel client whose failover
  // detector disconnects it mid-connect throws "Connection is closed."): reproduced here by making
  // the connector fail once, exactly where ioredis then sets the status to `end`.
  const failConnectOnce = (redis: Redis) => {
    const connector = (redis as unknown as { connector: { connect: (...a: unknown[]) => Promise<unknown> } }).connector;
    const real = connector.connect.bind(connector);
    connector.connect = () => {
      connector.connect = real;
      return Promise.reject(new Error('Connection is closed.'));
    };
  };

  it('a long-lived client is connected again and serves; an operator one-shot client stays ended', async () => {
    const { redis, log } = await connect({ commandTimeoutMs: 2000 });
    failConnectOnce(redis);
    redis.disconnect(true); // a reconnect, as a failover reply or a switch-master asks for
    await waitFor(() => redis.status === 'end' || log.lines.some((l) => l.msg.startsWith('Redis client ended by itself')), {
      what: 'ioredis ending the client',
      timeoutMs: 5000,
    });
    const pong = await waitFor(async () => (await redis.ping().catch(() => undefined)) === 'PONG', { what: 'the client serving again', timeoutMs: 10_000 });
    expect(pong).toBe(true);
    expect(log.lines.filter((l) => l.msg.startsWith('Redis client ended by itself'))).toHaveLength(1);

    const oneShot = connectRedis(server.url, { name: 'admin', oneShot: true, maxRetriesPerRequest: 1 });
    clients.push(oneShot);
    await waitReady(oneShot, 5000);
    failConnectOnce(oneShot);
    oneShot.disconnect(true);
    await waitFor(() => oneShot.status === 'end', { what: 'the one-shot client ended', timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 500));
    expect(oneShot.status).toBe('end');
  });

  it('a client we quit stays closed', async () => {
    const { redis } = await connect({ commandTimeoutMs: 2000 });
    await redis.quit();
    await waitFor(() => redis.status === 'end', { what: 'the client closed', timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 500));
    expect(redis.status).toBe('end');
  });
});
