// Passwords in Redis URLs never reach a log line or an error: `verk work` and `verk enqueue`
// against a private Redis with requirepass and an ACL user, with the right password, a wrong
// one, and an unreachable server, in JSON and pretty log formats, by flag and by REDIS_URL; and a
// redis+sentinel:// URL whose data and Sentinel passwords (URL and VERK_SENTINEL_PASSWORD) never show.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, freePort, type RedisServer } from '../helpers/redis-server.js';
import { startWorker, signalGroup, verk } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { SLEEP_HANDLER, fastArgs, projectWithHandlers } from '../helpers/e2e-kit.js';

const PASSWORD = 'S3cretPa55word';
const WRONG = 'Wr0ngPa55word';
const ACL_PASSWORD = 'AclUserPa55word';
const SENTINEL_PASSWORD = 'Sent1nelPa55word';

let redis: RedisServer;
let dir: string;
const url = (pw: string, user = '') => `redis://${user}:${pw}@127.0.0.1:${redis.port}/0`;

beforeAll(async () => {
  redis = await startRedis();
  await redis.client.call('ACL', 'SETUSER', 'verkuser', 'on', `>${ACL_PASSWORD}`, '~*', '&*', '+@all');
  await redis.client.config('SET', 'requirepass', PASSWORD); // this client stays authenticated
  dir = projectWithHandlers({ Sleep: SLEEP_HANDLER });
});
afterAll(async () => {
  await redis?.stop();
});

function expectClean(text: string): void {
  for (const secret of [PASSWORD, WRONG, ACL_PASSWORD, SENTINEL_PASSWORD]) expect(text).not.toContain(secret);
}

describe('Redis passwords are never printed', () => {
  it('verk work and verk enqueue with the right password (flag and REDIS_URL, json and pretty logs)', async () => {
    await redis.client.flushall();
    for (const format of ['json', 'pretty']) {
      const worker = startWorker(fastArgs(url(PASSWORD), ['-p', '1', '--log-level', 'debug', '--log-format', format, '--health-port', String(await freePort())]), {
        cwd: dir,
      });
      const before = Number(await redis.client.get('stat:processed:default'));
      const byFlag = await verk(['enqueue', 'Sleep', '1', '--redis-url', url(PASSWORD), '--json']);
      const byEnv = await verk(['enqueue', 'Sleep', '1'], { env: { REDIS_URL: url(ACL_PASSWORD, 'verkuser') } });
      expect(byFlag.exitCode).toBe(0);
      expect(byEnv.exitCode).toBe(0);
      await waitFor(async () => Number(await redis.client.get('stat:processed:default')) === before + 2, { timeoutMs: 15_000, what: 'jobs processed' });
      signalGroup(worker.pid!, 'SIGTERM');
      const res = await worker;
      expect(res.exitCode).toBe(0);
      expect(String(res.all)).toContain(`redis://:***@127.0.0.1:${redis.port}/0`);
      for (const out of [String(res.all), byFlag.stdout, byFlag.stderr, byEnv.stdout, byEnv.stderr]) expectClean(out);
    }
  });

  it('a wrong password: the worker logs the auth failure without the password; enqueue fails without it', async () => {
    const worker = startWorker(fastArgs(url(WRONG), ['-p', '1', '--log-level', 'debug']), { cwd: dir });
    let output = '';
    worker.all?.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(() => /WRONGPASS|NOAUTH|invalid username-password/i.test(output), { timeoutMs: 10_000, what: 'the auth failure in the log' });
    signalGroup(worker.pid!, 'SIGTERM');
    const res = await worker;
    expectClean(String(res.all));
    expect(String(res.all)).toContain(`redis://:***@127.0.0.1:${redis.port}/0`);

    const enq = await verk(['enqueue', 'Sleep', '1', '--redis-url', url(WRONG)]);
    expect(enq.exitCode).not.toBe(0);
    expect(enq.stderr).toMatch(/verk: error:/);
    expectClean(enq.stdout + enq.stderr);

    const acl = await verk(['enqueue', 'Sleep', '1'], { env: { REDIS_URL: url(WRONG, 'verkuser') } });
    expect(acl.exitCode).not.toBe(0);
    expectClean(acl.stdout + acl.stderr);
  });

  it('an unreachable server and a malformed URL: errors name the problem, never the password', async () => {
    const closed = await freePort();
    const enq = await verk(['enqueue', 'Sleep', '1', '--redis-url', `redis://:${PASSWORD}@127.0.0.1:${closed}/0`], { timeout: 30_000 });
    expect(enq.exitCode).not.toBe(0);
    expectClean(enq.stdout + enq.stderr);

    const bad = await verk(['enqueue', 'Sleep', '1', '--redis-url', `http://:${PASSWORD}@127.0.0.1:${closed}/0`]);
    expect(bad.exitCode).toBe(78);
    expectClean(bad.stdout + bad.stderr);

    const worker = startWorker(fastArgs(`redis://:${PASSWORD}@127.0.0.1:${closed}/0`, ['-p', '1']), { cwd: dir });
    let output = '';
    worker.all?.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(() => output.includes('Redis unreachable'), { timeoutMs: 10_000, what: 'the unreachable line' });
    signalGroup(worker.pid!, 'SIGTERM');
    const res = await worker;
    expectClean(String(res.all));
  });

  it('a redis+sentinel:// URL with unreachable Sentinels: neither the data nor the Sentinel password is printed', async () => {
    const [s1, s2] = [await freePort(), await freePort()];
    const sentinelUrl = `redis+sentinel://app:${PASSWORD}@127.0.0.1:${s1},127.0.0.1:${s2}/mymaster/0?sentinelPassword=${SENTINEL_PASSWORD}`;
    const enq = await verk(['enqueue', 'Sleep', '1', '--redis-url', sentinelUrl], { timeout: 30_000 });
    expect(enq.exitCode).not.toBe(0);
    expectClean(enq.stdout + enq.stderr);

    const worker = startWorker(fastArgs(sentinelUrl, ['-p', '1']), { cwd: dir, env: { VERK_SENTINEL_PASSWORD: SENTINEL_PASSWORD } });
    let output = '';
    worker.all?.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(() => output.includes('Redis unreachable'), { timeoutMs: 15_000, what: 'the unreachable line' });
    signalGroup(worker.pid!, 'SIGTERM');
    const res = await worker;
    expectClean(String(res.all));
    expect(String(res.all)).toContain(`redis+sentinel://app:***@127.0.0.1:${s1},127.0.0.1:${s2}/mymaster/0?sentinelPassword=***`);
  });
});
