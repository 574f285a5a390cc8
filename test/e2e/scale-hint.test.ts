// `verk scale-hint` against a real `verk work` (one worker process, 2 slots, jobs of 200 ms):
// it measures a per-process throughput no higher than the slots allow and asks for more
// processes for a backlog that one cannot drain within the target; bad flags exit 64.
import { describe, expect, it } from 'vitest';
import type { Client } from '../../src/api/client.js';
import { signalGroup, startWorker, verk } from '../helpers/cli.js';
import { usePrivateRedis, workArgs, workEnv } from '../helpers/e2e.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

let server: RedisServer;
let client: Client;
usePrivateRedis((s, c) => ([server, client] = [s, c]));

describe('verk scale-hint', () => {
  it('asks for more worker processes for a backlog one process cannot drain in time', async () => {
    const w = startWorker(workArgs(server, ['--queues', 'work:2', '--processes', '1']), { env: workEnv(server) });
    try {
      await client.enqueueBulk(Array.from({ length: 60 }, () => ({ class: 'Count', queue: 'work', args: [{ sleepMs: 200 }] })));
      await waitFor(async () => Number(await server.client.get('stat:processed:work')) >= 2, { what: 'the first jobs to finish', timeoutMs: 30_000 });
      const res = await verk(['scale-hint', '--queue', 'work', '--target-latency', '1s', '--window', '2s', '--json', '--redis-url', server.url]);
      expect(res.exitCode, res.stderr).toBe(0);
      const hint = JSON.parse(res.stdout);
      expect(hint).toMatchObject({ queue: 'work', nodes: 1, supervisors: 1, target_latency_s: 1 });
      // Two slots of 200 ms jobs finish at most 10 jobs/s.
      expect(hint.per_process).toBeGreaterThan(0);
      expect(hint.per_process).toBeLessThanOrEqual(10.5);
      // Tens of jobs wait and the target is 1 s: one process (≤ 10/s) is not enough.
      expect(hint.size).toBeGreaterThan(10);
      expect(hint.processes_needed).toBeGreaterThan(1);
      expect(hint.advice).toMatch(/^add \d+ worker process/);
    } finally {
      signalGroup(w.pid!, 'SIGTERM');
      await w;
    }
  });

  it('refuses a bad queue name or duration (64)', async () => {
    expect((await verk(['scale-hint', '--queue', 'a b', '--redis-url', server.url])).exitCode).toBe(64);
    const bad = await verk(['scale-hint', '--queue', 'q', '--window', 'soon', '--redis-url', server.url]);
    expect(bad.exitCode).toBe(64);
    expect(bad.stderr).toMatch(/--window/);
  });
});
