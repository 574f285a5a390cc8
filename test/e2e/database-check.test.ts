// src/redis/database-check.ts against real redis-servers: a database the server does not have is a
// ConfigError before anything is written, and a reconnect whose SELECT is refused closes the client
// instead of letting it write to db 0. Also the CLI: `verk retry clear` / `verk enqueue` on /99 exit
// 78 and leave db 0 untouched.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { checkDatabase, guardDatabase } from '../../src/redis/database-check.js';
import { connectRedis } from '../../src/redis/connection.js';
import { ConfigError } from '../../src/util/errors.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { verk } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

describe('checkDatabase', () => {
  it("selects the URL's database, so later writes land there", async () => {
    const redis = new Redis(`${server.url.replace(/\/0$/, '/3')}`, { maxRetriesPerRequest: 1 });
    try {
      expect(await checkDatabase(redis, server.url.replace(/\/0$/, '/3'))).toBe(3);
      await redis.set('dbcheck:k', 'v');
      const db3 = server.client.duplicate({ db: 3 });
      expect(await db3.get('dbcheck:k')).toBe('v');
      await db3.flushdb();
      db3.disconnect();
    } finally {
      redis.disconnect();
    }
  });

  it("a database the server does not have is a ConfigError naming it and the server's count", async () => {
    const url = server.url.replace(/\/0$/, '/99');
    const redis = new Redis(url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    try {
      const err = await checkDatabase(redis, url).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe('database 99 does not exist on this server (it has 16: 0–15): check the /N at the end of --redis-url / REDIS_URL');
    } finally {
      redis.disconnect();
    }
  });
});

describe('the CLI refuses a missing database before writing', () => {
  it('verk retry clear / verk enqueue on /99 exit 78 and db 0 keeps its keys', async () => {
    await server.client.flushall();
    await server.client.zadd('retry', 1, '{"jid":"r1","class":"A","queue":"default","args":[]}');
    await server.client.lpush('queue:default', '{"jid":"q1","class":"A","queue":"default","args":[]}');
    const url = server.url.replace(/\/0$/, '/99');
    const clear = await verk(['retry', 'clear', '--redis-url', url]);
    expect(clear.exitCode).toBe(78);
    expect(clear.stderr).toMatch(/config error: database 99 does not exist on this server \(it has 16: 0–15\)/);
    const enqueue = await verk(['enqueue', 'A', '1', '--redis-url', url]);
    expect(enqueue.exitCode).toBe(78);
    const bad = await verk(['retry', 'clear', '--redis-url', server.url.replace(/\/0$/, '/abc')]);
    expect(bad.exitCode).toBe(78);
    expect(bad.stderr).toMatch(/`redisUrl` has database "abc"/);
    expect(await server.client.zcard('retry')).toBe(1);
    expect(await server.client.lrange('queue:default', 0, -1)).toHaveLength(1);
    expect((await server.client.keys('*')).sort()).toEqual(['queue:default', 'retry']);
    console.log('[measured] retry clear / enqueue on db 99: exit 78, db 0 keys untouched (retry 1, queue:default 1)');
  });
});

describe('guardDatabase', () => {
  let proc: ChildProcess | undefined;
  const spawnServer = (port: number, databases: number) => {
    const p = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--databases', String(databases), '--loglevel', 'warning'],
      { stdio: 'ignore' },
    );
    return p;
  };
  const stopServer = async (p: ChildProcess | undefined) => {
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  afterAll(async () => stopServer(proc));

  it('a reconnect to a server without the database closes the client: nothing is written to db 0', async () => {
    const port = await freePort();
    proc = spawnServer(port, 16);
    const url = `redis://127.0.0.1:${port}/5`;
    const redis = connectRedis(url, { name: 'guard-test' });
    const refused: ConfigError[] = [];
    guardDatabase(redis, 5, (e) => refused.push(e));
    await waitFor(() => redis.status === 'ready', { what: 'the client to connect' });
    await checkDatabase(redis, url);
    await redis.set('before', '1');

    await stopServer(proc);
    proc = spawnServer(port, 2); // the same address now has databases 0 and 1 only
    const during = redis.set('during-outage', '1').then(
      () => 'written',
      (e: Error) => e.message,
    );
    expect(await during).toMatch(/Connection is closed/);
    expect(refused).toHaveLength(1);
    expect(refused[0].message).toMatch(/database 5 was refused by the server/);
    expect(
      await redis.set('after', '1').then(
        () => 'written',
        (e: Error) => e.message,
      ),
    ).toMatch(/Connection is closed/);

    const probe = new Redis({ port, host: '127.0.0.1' });
    try {
      expect(await probe.keys('*')).toEqual([]);
      await probe.select(1);
      expect(await probe.keys('*')).toEqual([]);
    } finally {
      probe.disconnect();
      redis.disconnect();
    }
    console.log('[measured] reconnect with SELECT 5 refused: client closed, 0 keys written to db 0');
  });
});
