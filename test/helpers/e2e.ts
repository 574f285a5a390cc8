// Shared pieces of the end-to-end tests: worker flags with short intervals, the fixture
// handlers directory, and reading what the fixture handlers recorded in Redis.
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startRedis, type RedisServer } from './redis-server.js';
import { Client } from '../../src/api/client.js';

export const FIXTURE_JOBS = fileURLToPath(new URL('../fixtures/jobs/', import.meta.url));

/**
 * Short intervals for tests. The TTL leaves room for a loaded 2-core machine running several
 * test files at once: a shorter one makes live-but-slow nodes get reaped (correctly fenced,
 * but then their interrupted jobs run twice and the figures measure the machine, not verk).
 */
export const TEST_INTERVALS = { heartbeatMs: 250, nodeTtlMs: 1500, reaperMs: 300, blockMs: 1000 };

/** The heartbeat, TTL, reaper and block-timeout flags of TEST_INTERVALS. */
export function intervalArgs(): string[] {
  const t = TEST_INTERVALS;
  return ['--heartbeat-interval', `${t.heartbeatMs}ms`, '--node-ttl', `${t.nodeTtlMs}ms`, '--reaper-interval', `${t.reaperMs}ms`, '--block-timeout', `${t.blockMs}ms`];
}

/** `verk work` flags for tests: the private Redis, fixture handlers and short intervals. */
export function workArgs(server: RedisServer, extra: string[] = []): string[] {
  return [
    '--redis-url',
    server.url,
    '--handlers',
    FIXTURE_JOBS,
    '--log-format',
    'json',
    ...intervalArgs(),
    '--scheduler-interval',
    '100ms',
    '--shutdown-timeout',
    '2s',
    ...extra,
  ];
}

export function workEnv(server: RedisServer): Record<string, string> {
  return { TEST_REDIS_URL: server.url };
}

/** Executions per jid recorded by the fixture handlers (test:execs holds "<jid>|<execution id>"). */
export async function executions(redis: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of await redis.smembers('test:execs')) {
    const jid = m.slice(0, m.indexOf('|'));
    out.set(jid, (out.get(jid) ?? 0) + 1);
  }
  return out;
}

/** Jobs the fixture handlers completed (distinct jids). */
export function doneCount(redis: Redis): Promise<number> {
  return redis.hlen('test:done');
}

/** Live registered node ids (heartbeat key present). */
export async function liveNodes(redis: Redis): Promise<string[]> {
  const ids = await redis.smembers('verk_nodes');
  const alive: string[] = [];
  for (const id of ids) if (await redis.exists(`verk:node:${id}`)) alive.push(id);
  return alive.sort();
}

/**
 * Registers this test file's hooks: a private redis-server (started once, stopped by PID) and
 * a producer Client on it, handed to `use`; the database is flushed before each test.
 */
export function usePrivateRedis(use: (server: RedisServer, client: Client) => void, opts: { appendonly?: boolean } = {}): void {
  let server: RedisServer;
  let client: Client;
  beforeAll(async () => {
    server = await startRedis(opts);
    client = new Client({ redisUrl: server.url });
    use(server, client);
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });
  beforeEach(async () => {
    await server.client.flushdb();
  });
}
