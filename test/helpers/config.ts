// A resolved Config for tests: defaults with short intervals, overridable per test.
import { DEFAULTS } from '../../src/config/defaults.js';
import type { Config } from '../../src/config/schema.js';

export function testConfig(over: Partial<Config> = {}): Config {
  return {
    ...(DEFAULTS as unknown as Config),
    queues: [{ name: 'default', concurrency: 5, timeout: 0 }],
    cron: [],
    limits: [],
    processes: 1,
    handlers: '/nonexistent',
    heartbeatInterval: 100,
    nodeTtl: 600,
    reaperInterval: 200,
    schedulerInterval: 100,
    blockTimeout: 200,
    logLevel: 'silent',
    ...over,
  } as Config;
}
