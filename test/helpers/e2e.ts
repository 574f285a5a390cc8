// Shared pieces of the end-to-end tests: worker flags with short intervals, the fixture
// handlers directory, and reading what the fixture handlers recorded in Redis.
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { RedisServer } from './redis-server.js';

export const FIXTURE_JOBS = fileURLToPath(new URL('../fixtures/jobs/', import.meta.url));

/** `verk work` flags for tests: the private Redis, fixture handlers and short intervals. */
export function workArgs(server: RedisServer, extra: string[] = []): string[] {
  return [
    '--redis-url', server.url, '--handlers', FIXTURE_JOBS, '--log-format', 'json',
    '--heartbeat-interval', '100ms', '--node-ttl', '600ms', '--reaper-interval', '200ms',
    '--scheduler-interval', '100ms', '--shutdown-timeout', '2s', ...extra,
  ];
}

export function workEnv(server: RedisServer): Record<string, string> {
  return { TEST_REDIS_URL: server.url };
}

/** Executions per jid recorded by the fixture handlers. */
export async function executions(redis: Redis): Promise<Map<string, number>> {
  const h = await redis.hgetall('test:executions');
  return new Map(Object.entries(h).map(([k, v]) => [k, Number(v)]));
}

/** Live registered node ids (heartbeat key present). */
export async function liveNodes(redis: Redis): Promise<string[]> {
  const ids = await redis.smembers('verk_nodes');
  const alive: string[] = [];
  for (const id of ids) if (await redis.exists(`verk:node:${id}`)) alive.push(id);
  return alive.sort();
}
