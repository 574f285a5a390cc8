// One private redis-server per test file with a Scripts connection to it (no prefix): started
// before the file's tests, emptied before each test (then `onEach`, e.g. registering a node),
// stopped by PID after them. The returned object's fields are set once the server is up.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { Scripts } from '../../src/redis/scripts.js';
import { makeKeys, type Keys } from '../../src/redis/keys.js';
import { startRedis, type RedisServer } from './redis-server.js';

export interface ScriptsServer {
  server: RedisServer;
  scripts: Scripts;
  keys: Keys;
}

export function useScriptsServer(onEach: (s: ScriptsServer) => Promise<unknown> = async () => undefined): ScriptsServer {
  const s = { keys: makeKeys('') } as ScriptsServer;
  beforeAll(async () => {
    s.server = await startRedis();
    s.scripts = new Scripts(s.server.client, s.keys);
  });
  afterAll(async () => s.server?.stop());
  beforeEach(async () => {
    await s.server.client.flushdb();
    await onEach(s);
  });
  return s;
}
