// The Redis Cluster layout's worlds (src/config/shard-worlds.ts): one per queue, a prefix holding
// the queue as hash tag, the periodic jobs and limits of that queue only, and the names refused.
import { describe, expect, it } from 'vitest';
import { hashTagOf, isClusterUrl, worldPrefix, worldsOf } from '../../src/config/shard-worlds.js';
import type { Config } from '../../src/config/schema.js';
import { testConfig } from '../helpers/config.js';

const cron = (name: string, queue: string) => ({ name, queue, class: 'X', args: [], schedule: '* * * * *' }) as unknown as Config['cron'][number];
const limit = (queue: string) => ({ queue, key: '', path: [], concurrency: 1 }) as unknown as Config['limits'][number];

describe('Redis Cluster worlds', () => {
  it('selects the layout by the redis+cluster:// scheme only', () => {
    expect(isClusterUrl('redis+cluster://127.0.0.1:7000,127.0.0.1:7001')).toBe(true);
    expect(isClusterUrl(' REDIS+CLUSTER://h:1')).toBe(true);
    expect(isClusterUrl('redis://127.0.0.1:6379/0')).toBe(false);
    expect(isClusterUrl('redis+sentinel://h:26379/m')).toBe(false);
  });

  it("gives each queue a prefix whose hash tag (Redis's rule) is the queue", () => {
    expect(worldPrefix('', 'mail')).toBe('{mail}:');
    expect(worldPrefix('app:', 'mail')).toBe('app:{mail}:');
    expect(hashTagOf('app:{mail}:')).toBe('mail');
    expect(hashTagOf('{mail}:queue:mail')).toBe('mail');
    expect(hashTagOf('plain:')).toBeUndefined();
    expect(hashTagOf('{}x')).toBeUndefined(); // an empty tag: Redis hashes the whole key
  });

  it('one world per queue, with that queue alone and its own periodic jobs and limits', () => {
    const config = testConfig({
      prefix: 'app:',
      queues: [
        { name: 'a', concurrency: 5, timeout: 0 },
        { name: 'b', concurrency: 2, timeout: 0 },
      ],
      cron: [cron('nightly', 'a'), cron('hourly', 'b'), cron('other', 'c')],
      limits: [limit('b')],
    });
    const worlds = worldsOf(config);
    expect(worlds.map((w) => [w.queue, w.config.prefix, w.config.queues.map((q) => q.name)])).toEqual([
      ['a', 'app:{a}:', ['a']],
      ['b', 'app:{b}:', ['b']],
    ]);
    expect(worlds[0].config.cron.map((e) => e.name)).toEqual(['nightly']);
    expect(worlds[1].config.cron.map((e) => e.name)).toEqual(['hourly']);
    expect(worlds[0].config.limits).toEqual([]);
    expect(worlds[1].config.limits).toHaveLength(1);
    expect(Object.isFrozen(worlds[0].config)).toBe(true);
    expect(config.prefix).toBe('app:'); // the user's config is left as it was
  });

  it('refuses a queue name or prefix that would break the hash tag, naming it', () => {
    expect(() => worldsOf(testConfig({ queues: [{ name: 'a}b', concurrency: 1, timeout: 0 }] }))).toThrow(/queue "a}b" cannot be a shard/);
    expect(() => worldsOf(testConfig({ prefix: '{x}:' }))).toThrow(/`prefix` "\{x\}:" holds/);
  });
});
