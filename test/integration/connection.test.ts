// src/redis/connection.ts through a TCP proxy the test controls: a command on a half-open
// (stale) connection is rejected within its bound, the client drops that connection once and
// reconnects, and the next command succeeds; a blocking wait is bounded above its block time.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { connectRedis, waitReady } from '../../src/redis/connection.js';
import type { LogFields, Logger } from '../../src/util/logger.js';

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

function recordingLog(): Logger & { lines: { level: string; msg: string; fields?: LogFields }[] } {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const log = {
    lines,
    debug: (msg: string, fields?: LogFields) => lines.push({ level: 'debug', msg, fields }),
    info: (msg: string, fields?: LogFields) => lines.push({ level: 'info', msg, fields }),
    warn: (msg: string, fields?: LogFields) => lines.push({ level: 'warn', msg, fields }),
    error: (msg: string, fields?: LogFields) => lines.push({ level: 'error', msg, fields }),
    child: () => log,
  };
  return log;
}

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
