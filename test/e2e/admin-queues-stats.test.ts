// `verk queues` and `verk stats` (built CLI, real Redis) against fabricated data, in table and
// --json forms; exit codes for unreachable Redis (1), bad usage (64) and a bad config (78).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, freePort, type RedisServer } from '../helpers/redis-server.js';
import { verk } from '../helpers/cli.js';
import { failedEntry, scheduledEntry, zadd, parseJson } from '../helpers/admin-kit.js';

let server: RedisServer;
let r: RedisServer['client'];
let now: number;

beforeAll(async () => {
  server = await startRedis();
  r = server.client;
  const [s] = await r.time();
  now = Number(s);
  const job = (q: string, enq: number | null, extra = '') =>
    `{"retry":true,"queue":"${q}","class":"MyJob","args":[1],"jid":"${Math.random().toString(16).slice(2)}","created_at":${now - 100}${enq === null ? '' : `,"enqueued_at":${enq}`}${extra}}`;
  // default: oldest job (right end) enqueued 30 s ago; mail: paused, 1 job; legacy: written by
  // Elixir verk (integer seconds, no SADD queues); ghost: paused but never used.
  await r.sadd('queues', 'default', 'mail');
  await r.lpush('queue:default', job('default', now - 30.5), job('default', now - 10), job('default', now - 1));
  await r.lpush('queue:mail', job('mail', now - 5));
  await r.lpush('queue:legacy', `{"args":"[1]","class":"Elixir.X","enqueued_at":${now - 60},"jid":"123","queue":"legacy","retry_count":0}`);
  await r.sadd('verk:paused', 'mail', 'ghost');
  await r.mset(
    'stat:processed',
    '120',
    'stat:failed',
    '7',
    'stat:processed:default',
    '100',
    'stat:failed:default',
    '5',
    'stat:processed:mail',
    '20',
    'stat:failed:mail',
    '2',
  );
  await zadd(r, 'retry', [
    [now + 60, failedEntry()],
    [now + 120, failedEntry()],
  ]);
  await zadd(r, 'schedule', [[now + 600, scheduledEntry()]]);
  await zadd(r, 'dead', [
    [now - 5, failedEntry()],
    [now - 6, failedEntry()],
    [now - 7, 'not json'],
  ]);
  await r.sadd('verk_nodes', 'n1', 'n2', 'n3');
  await r.set('verk:node:n1', 'alive', 'PX', 60_000);
  await r.set('verk:node:n2', 'alive', 'PX', 60_000);
  await r.hset('verk:node:n1:info', 'busy', '2');
  await r.hset('verk:node:n2:info', 'busy', '3');
  await r.hset('verk:node:n3:info', 'busy', '9'); // heartbeat key gone: not alive, not counted
  await r.sadd('processes', 'vm:1:abcdefabcdef', 'vm:2:abcdefabcdef'); // vm:2 has no hash: dead, pruned
  await r.hset('vm:1:abcdefabcdef', 'info', '{"hostname":"vm","pid":1}', 'beat', String(Date.now() / 1000 + 3600));
});
afterAll(async () => {
  await server.stop();
});

const url = () => ['--redis-url', server.url];

describe('verk queues', () => {
  it('--json lists every queue with size, latency and paused', async () => {
    const res = await verk(['queues', '--json', ...url()]);
    expect(res.exitCode).toBe(0);
    const { queues } = parseJson(res);
    expect(queues.map((q: { name: string }) => q.name)).toEqual(['default', 'ghost', 'legacy', 'mail']);
    const [def, ghost, legacy, mail] = queues;
    expect(Object.keys(def).sort()).toEqual(['latency', 'name', 'paused', 'size']);
    expect(def.size).toBe(3);
    expect(def.latency).toBeGreaterThanOrEqual(29);
    expect(def.latency).toBeLessThan(45);
    expect(def.paused).toBe(false);
    expect(ghost).toEqual({ name: 'ghost', size: 0, latency: 0, paused: true });
    expect(legacy.size).toBe(1);
    expect(legacy.latency).toBeGreaterThanOrEqual(59);
    expect(legacy.paused).toBe(false);
    expect(mail.size).toBe(1);
    expect(mail.paused).toBe(true);
    expect(mail.latency).toBeGreaterThanOrEqual(4);
  });

  it('prints a table without colour codes when not on a TTY', async () => {
    const res = await verk(['queues', ...url()]);
    expect(res.exitCode).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toMatch(/^QUEUE\s+SIZE\s+LATENCY\s+PAUSED$/);
    expect(lines.find((l) => l.startsWith('default'))).toMatch(/^default\s+3\s+3\d(\.\d)?s\s+no$/);
    expect(lines.find((l) => l.startsWith('mail'))).toMatch(/^mail\s+1\s+\S+\s+paused$/);
    expect(lines.find((l) => l.startsWith('ghost'))).toMatch(/^ghost\s+0\s+-\s+paused$/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the assertion is that no ANSI escape (ESC [) is printed
    expect(res.stdout).not.toMatch(/\u001b\[/);
  });
});

describe('verk stats', () => {
  it('--json has totals, set sizes, nodes, busy and per-queue counters', async () => {
    const res = await verk(['stats', '--json', ...url()]);
    expect(res.exitCode).toBe(0);
    const s = parseJson(res);
    expect(Object.keys(s).sort()).toEqual(['busy', 'dead', 'enqueued', 'failed', 'nodes', 'processed', 'processes', 'queues', 'redis', 'retry', 'schedule', 'warnings']);
    expect(s.redis).toEqual({ maxmemory_policy: 'noeviction' });
    expect(s.warnings).toEqual([]);
    expect(s.processed).toBe(120);
    expect(s.failed).toBe(7);
    expect(s.enqueued).toBe(5);
    expect(s.retry).toBe(2);
    expect(s.schedule).toBe(1);
    expect(s.dead).toBe(3);
    expect(s.nodes).toBe(2);
    expect(s.busy).toBe(5);
    expect(s.processes).toBe(1);
    expect(s.queues).toEqual([
      { name: 'default', processed: 100, failed: 5, size: 3 },
      { name: 'ghost', processed: 0, failed: 0, size: 0 },
      { name: 'legacy', processed: 0, failed: 0, size: 1 },
      { name: 'mail', processed: 20, failed: 2, size: 1 },
    ]);
  });

  it('prints the totals and a per-queue table', async () => {
    const res = await verk(['stats', ...url()]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toMatch(/^TOTAL\s+VALUE$/m);
    expect(res.stdout).toMatch(/^processed\s+120$/m);
    expect(res.stdout).toMatch(/^nodes\s+2$/m);
    expect(res.stdout).toMatch(/^busy\s+5$/m);
    expect(res.stdout).toMatch(/^QUEUE\s+PROCESSED\s+FAILED\s+SIZE$/m);
    expect(res.stdout).toMatch(/^default\s+100\s+5\s+3$/m);
    expect(res.stderr).toBe(''); // noeviction: no warning
  });
});

describe('exit codes', () => {
  it('1 when Redis cannot be reached, with the error on stderr', async () => {
    const port = await freePort();
    const res = await verk(['stats', '--redis-url', `redis://:secret@127.0.0.1:${port}/0`], { timeout: 20_000 });
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/verk: error:/);
    expect(res.stderr).not.toContain('secret');
  });

  it('64 for a usage error, 78 for a configuration error', async () => {
    expect((await verk(['queues', '--bogus', ...url()])).exitCode).toBe(64);
    expect((await verk(['pause', 'bad name!', ...url()])).exitCode).toBe(64);
    const cfg = await verk(['queues', '--config', '/nonexistent/verk.config.json', ...url()]);
    expect(cfg.exitCode).toBe(78);
  });
});
