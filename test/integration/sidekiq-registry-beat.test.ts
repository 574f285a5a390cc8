// The Sidekiq process registry's beat against a real redis-server: an idle beat is two
// commands, the TTLs are renewed every few beats, a hash that expired gets its TTL back at
// once, the workers hash is rewritten only when the running jobs change, and a signal is acted on.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { testConfig } from '../helpers/config.js';
import { Scripts } from '../../src/redis/scripts.js';
import { makeKeys } from '../../src/redis/keys.js';
import { FLEET } from '../../src/config/defaults.js';
import { SidekiqRegistry, type RegistryHost } from '../../src/runner/sidekiq-registry.js';
import type { RunningJobInfo } from '../../src/runner/ipc.js';

let server: RedisServer;
const keys = makeKeys('');

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => server.stop());
beforeEach(async () => {
  await server.client.flushdb();
});

function host(running: RunningJobInfo[] = []): RegistryHost & { quiets: number } {
  const h = {
    config: testConfig({ redisUrl: server.url }),
    redis: server.client,
    scripts: new Scripts(server.client, keys),
    state: 'running',
    children: new Map([['n1', { busy: running.length, rss: 1000, running }]]),
    quiets: 0,
    quiet() {
      h.quiets++;
    },
    stop: async () => undefined,
    counters: () => [],
  };
  return h;
}

async function commands(fn: () => Promise<unknown>): Promise<Record<string, number>> {
  await server.client.config('RESETSTAT');
  await fn();
  const out: Record<string, number> = {};
  for (const m of (await server.client.info('commandstats')).matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) {
    if (m[1] !== 'info' && !m[1].startsWith('config')) out[m[1]] = Number(m[2]);
  }
  return out;
}

describe('Sidekiq registry beat', () => {
  it('an idle beat is HSET + RPOP; every third beat re-adds the identity and renews the TTL', async () => {
    const reg = new SidekiqRegistry(host(), { identity: 'box:1:abc' });
    expect(await commands(() => reg.tick())).toEqual({ sadd: 1, hset: 1, expire: 1, rpop: 1 });
    expect(await server.client.ttl(keys.process('box:1:abc'))).toBeGreaterThan(50);
    const seen: Record<string, number>[] = [];
    for (let i = 0; i < FLEET.sidekiqRenewEvery; i++) seen.push(await commands(() => reg.tick()));
    expect(seen.slice(0, -1)).toEqual(Array(FLEET.sidekiqRenewEvery - 1).fill({ hset: 1, rpop: 1 }));
    expect(seen.at(-1)).toEqual({ sadd: 1, hset: 1, expire: 1, rpop: 1 });
  });

  it('a process hash that expired meanwhile gets its TTL and membership back in the same beat', async () => {
    const reg = new SidekiqRegistry(host(), { identity: 'box:2:abc' });
    await reg.tick();
    await server.client.del(keys.process('box:2:abc'));
    await server.client.srem(keys.processes, 'box:2:abc');
    await reg.tick();
    expect(await server.client.ttl(keys.process('box:2:abc'))).toBeGreaterThan(50);
    expect(await server.client.sismember(keys.processes, 'box:2:abc')).toBe(1);
  });

  it('writes the workers hash when the running jobs change, not on every beat', async () => {
    const running: RunningJobInfo[] = [{ jid: 'j1', class: 'T', queue: 'q', started_at: Date.now() }];
    const reg = new SidekiqRegistry(host(running), { identity: 'box:3:abc' });
    await reg.tick();
    expect(await server.client.hkeys(keys.processWorkers('box:3:abc'))).toEqual(['j1']);
    const again = await commands(() => reg.tick());
    expect(again.unlink ?? 0).toBe(0);
    expect(again.hset).toBe(1); // the process hash only
  });

  it('acts on a signal pushed by verk quiet or Sidekiq Web', async () => {
    const h = host();
    const reg = new SidekiqRegistry(h, { identity: 'box:4:abc' });
    await server.client.lpush(keys.processSignals('box:4:abc'), 'TSTP');
    await reg.tick();
    expect(h.quiets).toBe(1);
    expect(reg.lastSignal).toBe('TSTP');
  });
});
