// `verk processes` and the `processes` set with real `verk work` supervisors against a private
// Redis: each supervisor listed with identity, host, pid, state, busy/concurrency and its worker
// nodes (the same ids `verk nodes` shows, which carry the identity); `verk quiet <node id>` shows
// up as state quiet; after kill -9 a supervisor stays listed while its hash lives (as in Sidekiq)
// and is pruned from `processes` once its hash has expired (or, for a hash without a TTL, once
// its beat is older than 60 s).
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis, FIXTURE_JOBS } from '../helpers/e2e.js';
import { signalGroup, startWorker, verk } from '../helpers/cli.js';
import { parseJson } from '../helpers/admin-kit.js';
import { fastArgs } from '../helpers/e2e-kit.js';
import { waitFor } from '../helpers/wait.js';

let server: RedisServer;
usePrivateRedis((s) => (server = s));
const url = () => ['--redis-url', server.url];
const processes = async () => parseJson<{ redis_time: string; processes: any[] }>(await verk(['processes', '--json', ...url()]));

describe('verk processes', () => {
  it('lists each supervisor with its nodes; quiet shows; a kill -9 one is pruned once its hash expires', async () => {
    const args = fastArgs(server.url, ['-p', '2', '--queues', 'default:3,mail:2', '--handlers', FIXTURE_JOBS]);
    const a = startWorker(args);
    const b = startWorker(args);
    try {
      const report = await waitFor(
        async () => {
          const r = await processes();
          const ready = (p: any) => p.state === 'running' && p.nodes.filter((n: any) => n.alive && n.state === 'running').length === 2;
          return r.processes.length === 2 && r.processes.every(ready) ? r : undefined;
        },
        { timeoutMs: 30_000, what: 'two running supervisors with two running nodes each' },
      );
      expect(Number.isNaN(Date.parse(report.redis_time))).toBe(false);
      const nodes = parseJson<{ nodes: any[] }>(await verk(['nodes', '--json', ...url()])).nodes;
      for (const worker of [a, b]) {
        const p = report.processes.find((x) => x.pid === worker.pid);
        expect(p, `supervisor pid ${worker.pid}`).toBeTruthy();
        expect(p.identity).toMatch(new RegExp(`^${os.hostname()}:${worker.pid}:[0-9a-f]{12}$`));
        expect(p.hostname).toBe(os.hostname());
        expect(p.started_at).toBeGreaterThan(Date.now() / 1000 - 120);
        expect(p.beat).toBeGreaterThanOrEqual(p.started_at);
        expect(p.last_beat_s).toBeGreaterThanOrEqual(0);
        expect(p.state).toBe('running');
        expect(p.quiet).toBe(false);
        expect(p.busy).toBe(0);
        expect(p.concurrency).toBe(10); // (3 + 2) per worker process × 2
        expect(p.queues).toEqual(['default', 'mail']);
        // Sidekiq Web's Busy page shows these labels: the node ids `verk nodes` lists for it.
        expect(p.labels).toEqual(['verk', ...p.nodes.map((n: any) => n.id).sort()]);
        expect(p.verk).toBe(true);
        expect(p.nodes).toHaveLength(2);
        for (const n of p.nodes) {
          expect(Object.keys(n).sort()).toEqual(['alive', 'busy', 'id', 'in_progress', 'pid', 'queues', 'state']);
          expect(n.alive).toBe(true);
          expect(n.state).toBe('running');
          expect(n.in_progress).toBe(0);
          expect(n.queues).toEqual(['default', 'mail']);
          const asNode = nodes.find((x) => x.id === n.id);
          expect(asNode.identity).toBe(p.identity); // `verk nodes` names the same supervisor
          expect(asNode.supervisor_pid).toBe(worker.pid);
          expect(n.pid).toBe(asNode.pid);
        }
      }
      const text = await verk(['processes', ...url()]);
      expect(text.exitCode).toBe(0);
      expect(text.stdout).toMatch(/IDENTITY\s+HOST\s+PID\s+STATE\s+BUSY/);
      for (const p of report.processes) expect(text.stdout).toContain(p.identity);
      expect(text.stdout).toMatch(/2 processes/);

      // `verk quiet <node id>` quiets that node's supervisor.
      const pa = report.processes.find((x) => x.pid === a.pid);
      const pb = report.processes.find((x) => x.pid === b.pid);
      const q = await verk(['quiet', pa.nodes[0].id, '--json', ...url()]);
      expect(parseJson(q).targets[0].identity).toBe(pa.identity);
      await waitFor(async () => (await processes()).processes.find((x) => x.identity === pa.identity)?.state === 'quiet', { timeoutMs: 15_000, what: 'state quiet' });

      // kill -9 b: no clean SREM. While its hash lives (60 s TTL) it still counts, as in Sidekiq.
      signalGroup(b.pid!, 'SIGKILL');
      await b;
      const stats = async () => parseJson(await verk(['stats', '--json', ...url()])).processes;
      expect(await stats()).toBe(2);
      // A beat 61 s old on a hash that still has its TTL is trusted to the TTL (the writer's
      // clock may be skewed): still listed.
      await server.client.hset(pb.identity, 'beat', Date.now() / 1000 - 61);
      expect(await stats()).toBe(2);
      // 60 s pass for b: its hash expires (the TTL is cut short here); the next read prunes it.
      await server.client.pexpire(pb.identity, 1);
      await waitFor(async () => (await server.client.exists(pb.identity)) === 0, { what: "b's hash to expire" });
      expect(await server.client.sismember('processes', pb.identity)).toBe(1);
      expect(await stats()).toBe(1);
      expect(await server.client.sismember('processes', pb.identity)).toBe(0);
      expect((await processes()).processes.map((x) => x.identity)).toEqual([pa.identity]);
      // A hash written without a TTL whose beat is over 60 s old is dead too.
      await server.client.sadd('processes', 'old:1:abcdefabcdef');
      await server.client.hset('old:1:abcdefabcdef', 'info', '{"hostname":"old","pid":1}', 'beat', String(Date.now() / 1000 - 61));
      expect((await processes()).processes.map((x) => x.identity)).toEqual([pa.identity]);
      expect(await server.client.smembers('processes')).toEqual([pa.identity]);
      console.log('[measured] after kill -9: listed while its hash lived; pruned by the first read after the hash expired');

      const miss = await verk(['quiet', 'web-9', ...url()]);
      expect(miss.exitCode).toBe(1);
      expect(miss.stderr).toContain(`live processes: ${pa.identity}; see \`verk processes\``);
    } finally {
      signalGroup(a.pid!, 'SIGTERM');
      signalGroup(b.pid!, 'SIGKILL');
      await Promise.all([a, b]);
    }
  }, 90_000);

  it('lists a Sidekiq process sharing the Redis as such, with no verk nodes', async () => {
    const id = 'sidekiq-host:77:0123456789ab';
    const info = { hostname: 'sidekiq-host', started_at: 1795389000.5, pid: 77, tag: 'app', concurrency: 5, queues: ['default'], labels: [], identity: id };
    await server.client.sadd('processes', id);
    await server.client.hset(id, 'info', JSON.stringify(info), 'busy', '2', 'beat', String(Date.now() / 1000), 'quiet', 'false');
    const [p] = (await processes()).processes;
    expect(p).toMatchObject({
      identity: id,
      hostname: 'sidekiq-host',
      pid: 77,
      started_at: 1795389000.5,
      state: 'running',
      quiet: false,
      busy: 2,
      concurrency: 5,
      queues: ['default'],
      labels: [],
      verk: false,
      nodes: [],
    });
    expect((await verk(['processes', ...url()])).stdout).toMatch(/sidekiq-host:77:0123456789ab\s+sidekiq-host\s+77\s+running\s+2\/5.*\(Sidekiq\)/);
  });

  it('says so when no process is live', async () => {
    const r = await verk(['processes', ...url()]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('no live processes');
    expect(await processes()).toEqual({ redis_time: expect.any(String), processes: [] });
  });
});
