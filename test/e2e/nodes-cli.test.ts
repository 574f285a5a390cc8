// `verk nodes` on fabricated states: a live node of ours, a dead one, one being reaped and an
// Elixir verk node (no info hash) — JSON checked field by field, plus the table form; and a real
// `verk work` whose IDENTITY, read off the table, is what `verk quiet` takes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { signalGroup, startWorker, verk } from '../helpers/cli.js';
import { SLEEP_HANDLER, fastArgs, projectWithHandlers } from '../helpers/e2e-kit.js';
import { waitFor } from '../helpers/wait.js';
import fs from 'node:fs';
import { fabricateNode, job, redisMs } from '../helpers/fabricate.js';
import { makeKeys } from '../../src/redis/keys.js';

let server: RedisServer;
const keys = makeKeys('');

beforeAll(async () => {
  server = await startRedis();
  const r = server.client;
  const now = await redisMs(r);
  await fabricateNode(r, keys, {
    id: 'web-1-aaaa0001',
    ttlMs: 15_000,
    inprogress: { default: [job('a1'), job('a2')], mail: [job('a3', { queue: 'mail' })] },
    info: {
      host: 'web-1',
      supervisor_pid: 4200,
      identity: 'web-1:4200:0123456789ab',
      started_at: (now - 600_000) / 1000,
      version: '0.1.0',
      queues: 'default:10,mail:5',
      busy: 3,
      registered_at: now - 600_000,
      beat: now - 2_000,
      pid: 4242,
      rss: 52_428_800,
      state: 'running',
      running: '[]',
    },
  });
  await fabricateNode(r, keys, {
    id: 'web-2-bbbb0002',
    inprogress: { default: [job('b1')] },
    info: {
      host: 'web-2',
      supervisor_pid: 5200,
      started_at: (now - 900_000) / 1000,
      version: '0.1.0',
      busy: 1,
      registered_at: now - 900_000,
      beat: now - 47_000,
      pid: 5252,
      state: 'running',
    },
  });
  await fabricateNode(r, keys, { id: 'web-3-cccc0003', reapingOnly: true, inprogress: { default: [job('c1'), job('c2')] } });
  await fabricateNode(r, keys, { id: '1234567890123', ttlMs: 60_000, inprogress: { default: [job('e1')] } });
});
afterAll(async () => server.stop());

describe('verk nodes', () => {
  it('--json lists every registered node with liveness, beat age, TTL, queues and jobs in progress', async () => {
    const res = await verk(['nodes', '--json', '--redis-url', server.url]);
    expect(res.exitCode, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(Date.parse(out.redis_time)).toBeGreaterThan(0);
    const byId = Object.fromEntries(out.nodes.map((n: { id: string }) => [n.id, n]));
    expect(out.nodes.map((n: { id: string }) => n.id)).toEqual(['1234567890123', 'web-1-aaaa0001', 'web-2-bbbb0002', 'web-3-cccc0003']);

    const live = byId['web-1-aaaa0001'];
    expect(live.alive).toBe(true);
    expect(live.registered).toBe(true);
    expect(live.reaping).toBe(false);
    expect(live.host).toBe('web-1');
    expect(live.pid).toBe(4242);
    expect(live.supervisor_pid).toBe(4200);
    expect(live.last_beat_s).toBeGreaterThanOrEqual(2);
    expect(live.last_beat_s).toBeLessThan(10);
    expect(live.ttl_ms).toBeGreaterThan(5_000);
    expect(live.ttl_ms).toBeLessThanOrEqual(15_000);
    expect(live.queues).toEqual(['default', 'mail']);
    expect(live.in_progress).toBe(3);
    expect(live.in_progress_by_queue).toEqual({ default: 2, mail: 1 });
    expect(Date.parse(live.started_at)).toBeLessThan(Date.parse(out.redis_time) - 590_000);
    expect(live.version).toBe('0.1.0');
    expect(live.busy).toBe(3);
    expect(live.state).toBe('running');
    expect(live.rss).toBe(52_428_800);

    const dead = byId['web-2-bbbb0002'];
    expect(dead.alive).toBe(false);
    expect(dead.registered).toBe(true);
    expect(dead.ttl_ms).toBeNull();
    expect(dead.last_beat_s).toBeGreaterThanOrEqual(47);
    expect(dead.last_beat_s).toBeLessThan(70);
    expect(dead.in_progress).toBe(1);

    const reaping = byId['web-3-cccc0003'];
    expect(reaping).toMatchObject({ alive: false, registered: false, reaping: true, in_progress: 2, host: null, last_beat_s: null });

    const elixir = byId['1234567890123'];
    expect(elixir).toMatchObject({
      alive: true,
      registered: true,
      host: null,
      pid: null,
      supervisor_pid: null,
      last_beat_s: null,
      started_at: null,
      registered_at: null,
      version: null,
      busy: null,
      state: null,
      rss: null,
      queues: ['default'],
      in_progress: 1,
    });
    expect(elixir.ttl_ms).toBeGreaterThan(50_000);
  });

  it('prints an aligned table with blanks for what an Elixir node does not record', async () => {
    const res = await verk(['nodes', '--redis-url', server.url]);
    expect(res.exitCode, res.stderr).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toMatch(/^NODE\s+IDENTITY\s+STATUS\s+HOST\s+PID\s+LAST BEAT\s+TTL LEFT\s+QUEUES\s+IN PROGRESS/);
    const statusCol = lines[0].indexOf('STATUS');
    const identityCol = lines[0].indexOf('IDENTITY');
    expect(lines.find((l) => l.startsWith('web-1-aaaa0001'))!.slice(identityCol)).toMatch(/^web-1:4200:0123456789ab\s+alive\s/);
    expect(lines.find((l) => l.startsWith('1234567890123'))!.slice(identityCol)).toMatch(/^-\s+alive\s/);
    const dead = lines.find((l) => l.startsWith('web-2-bbbb0002'))!;
    expect(dead.slice(statusCol)).toMatch(/^dead\s+web-2\s+5252\s+[45]\ds ago\s+-\s+default\s+1\s/);
    const elixir = lines.find((l) => l.startsWith('1234567890123'))!;
    expect(elixir.slice(statusCol)).toMatch(/^alive\s+-\s+-\s+-\s+\d+s\s+default\s+1\s/);
    expect(res.stdout).toContain('4 nodes: 2 alive, 2 dead');
  });

  it('says so when no node is registered (another prefix)', async () => {
    const res = await verk(['nodes', '--redis-url', server.url, '--prefix', 'other:']);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toBe('no registered nodes');
  });

  it('a live `verk work`: the IDENTITY column is the identity `verk quiet` takes', async () => {
    const dir = projectWithHandlers({ Sleep: SLEEP_HANDLER });
    const prefix = ['--prefix', 'live:'];
    const worker = startWorker(fastArgs(server.url, ['-p', '1', '-q', 'default:1', ...prefix]), { cwd: dir });
    try {
      const identity = await waitFor(
        async () => {
          const res = await verk(['nodes', '--redis-url', server.url, ...prefix]);
          const [head, row] = res.stdout.split('\n');
          if (!row?.includes('alive')) return undefined;
          const cell = row.slice(head.indexOf('IDENTITY')).split(/\s+/)[0];
          return cell === '-' ? undefined : cell;
        },
        { timeoutMs: 20_000, what: 'a live node with its identity in `verk nodes`' },
      );
      expect(identity).toMatch(/^[^:\s]+:\d+:[0-9a-f]{12}$/);
      const json = JSON.parse((await verk(['nodes', '--json', '--redis-url', server.url, ...prefix])).stdout);
      expect(json.nodes.map((n: { identity: string }) => n.identity)).toEqual([identity]);
      const quiet = await verk(['quiet', identity, '--redis-url', server.url, ...prefix]);
      expect(quiet.exitCode, quiet.stderr).toBe(0);
      expect(quiet.stdout.trim()).toBe(`sent TSTP to ${identity} (quiet at its next beat)`);
      await waitFor(async () => (await server.client.hget(`live:${identity}`, 'quiet')) === 'true', { timeoutMs: 20_000, what: 'the process to report quiet' });
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
      await worker;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
