// An evicting Redis (issue 10 item 11): `verk stats` reads maxmemory-policy (CONFIG GET, else
// INFO memory when CONFIG is denied, else 'unknown') and warns when it is not noeviction — on
// stderr in text, as redis.maxmemory_policy and warnings[] in --json. A private redis-server
// set to allkeys-lru / volatile-lru; ACL users stand in for managed Redis that blocks CONFIG.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { verk } from '../helpers/cli.js';
import { evictionWarning, readEvictionPolicy } from '../../src/redis/eviction.js';
import { connectRedis } from '../../src/redis/connection.js';

let server: RedisServer;
const urlFor = (user?: string) => (user ? `redis://${user}:pw@127.0.0.1:${server.port}/0` : server.url);
const stats = (args: string[], user?: string) => verk(['stats', ...args, '--redis-url', urlFor(user)]);

beforeAll(async () => {
  server = await startRedis();
  // Like a managed Redis: CONFIG refused (but INFO allowed), and one that refuses INFO as well.
  await server.client.call('ACL', 'SETUSER', 'noconfig', 'on', '>pw', '~*', '&*', '+@all', '-config');
  await server.client.call('ACL', 'SETUSER', 'noinfo', 'on', '>pw', '~*', '&*', '+@all', '-config', '-info');
});
afterAll(async () => {
  await server.client.config('SET', 'maxmemory-policy', 'noeviction');
  await server.stop();
});
beforeEach(async () => {
  await server.client.flushdb();
  await server.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
});

describe('verk stats on an evicting Redis', () => {
  it('prints a warning on stderr naming the policy and the fix, and the tables on stdout', async () => {
    const res = await stats([]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^TOTAL\s+VALUE$/m);
    expect(res.stdout).not.toContain('maxmemory');
    expect(res.stderr).toMatch(/^verk: warning: Redis maxmemory-policy is 'allkeys-lru'/m);
    expect(res.stderr).toContain('queued jobs');
    expect(res.stderr).toContain('maxmemory-policy noeviction');
  });

  it('--json has redis.maxmemory_policy and the warning in warnings[]', async () => {
    const res = await stats(['--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const s = JSON.parse(res.stdout);
    expect(s.redis).toEqual({ maxmemory_policy: 'allkeys-lru' });
    expect(s.warnings).toEqual([evictionWarning('allkeys-lru')]);
    expect(res.stderr).toBe('');
  });

  it('reads the policy from INFO memory when CONFIG is denied, and gives "unknown" (no warning) when both are', async () => {
    const viaInfo = JSON.parse((await stats(['--json'], 'noconfig')).stdout);
    expect(viaInfo.redis.maxmemory_policy).toBe('allkeys-lru');
    expect(viaInfo.warnings).toHaveLength(1);
    const blind = await stats(['--json'], 'noinfo');
    expect(blind.exitCode, blind.stderr).toBe(0);
    expect(JSON.parse(blind.stdout)).toMatchObject({ redis: { maxmemory_policy: 'unknown' }, warnings: [] });
  });

  it('a volatile-* policy warns that heartbeat keys can be evicted; noeviction gives no warning', async () => {
    await server.client.config('SET', 'maxmemory-policy', 'volatile-lru');
    const v = JSON.parse((await stats(['--json'])).stdout);
    expect(v.warnings[0]).toMatch(/'volatile-lru'.*heartbeat keys/);
    await server.client.config('SET', 'maxmemory-policy', 'noeviction');
    const ok = await stats([]);
    expect(ok.stderr).toBe('');
    expect(JSON.parse((await stats(['--json'])).stdout)).toMatchObject({ redis: { maxmemory_policy: 'noeviction' }, warnings: [] });
  });

  it('readEvictionPolicy on a connection of its own', async () => {
    const r = connectRedis(urlFor('noconfig'), { name: 'test' });
    try {
      expect(await readEvictionPolicy(r)).toBe('allkeys-lru');
      expect(await readEvictionPolicy(server.client)).toBe('allkeys-lru');
    } finally {
      r.disconnect();
    }
  });
});

describe('evictionWarning', () => {
  it('is silent for noeviction and unknown, and says why and how to fix otherwise', () => {
    expect(evictionWarning('noeviction')).toBeUndefined();
    expect(evictionWarning('unknown')).toBeUndefined();
    for (const p of ['allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-ttl']) {
      expect(evictionWarning(p)).toContain(`'${p}'`);
      expect(evictionWarning(p)).toContain('maxmemory-policy noeviction');
    }
  });
});
