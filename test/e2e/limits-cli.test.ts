// Cluster-wide limits end to end with the built binary: `verk work` with a limit publishes it to
// verk:limits and holds its slots while its jobs run; `verk limits` (without the config) shows
// held/limit, holders by node and parked jobs, `verk limits why` says the key is full and who holds
// it, and names a free key "nothing parked"; /metrics has the slots held, the parked jobs and the
// audit's fixes (0), `verk queues` the parked jobs beside the size; a bad limit stops `verk work` with exit 78 naming the
// file, the queue and the field.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { signalGroup, startWorker, verk } from '../helpers/cli.js';
import { usePrivateRedis, workArgs, workEnv } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';
import { httpGet } from '../helpers/e2e-kit.js';
import { freePort } from '../helpers/redis-server.js';

let server: RedisServer;
usePrivateRedis((s) => {
  server = s;
});

const LIMITS = JSON.stringify({ slow: { key: 'args[0].account', concurrency: 2 } });

describe('verk limits', () => {
  it('shows held/limit, holders and parked jobs of a running fleet, and why a key waits', async () => {
    const jobs = Array.from({ length: 6 }, (_, n) => JSON.stringify({ class: 'Count', args: [{ account: 'acme', sleepMs: 60_000, n }], jid: `lim${n}`, queue: 'slow' }));
    await server.client.lpush('queue:slow', ...jobs);
    const port = await freePort();
    const w = startWorker(workArgs(server, ['--processes', '1', '--queues', 'slow:5', '--limits', LIMITS, '--health-port', String(port)]), { env: workEnv(server) });
    try {
      await waitFor(
        async () => Number(await server.client.hget('verk:limit:slow:held', 'acme')) === 2 && (await server.client.llen('verk:limit:slow:parked:acme')) === 4,
        {
          what: 'two jobs running, four parked',
          timeoutMs: 20_000,
        },
      );
      const cli = (...args: string[]) => verk(['limits', ...args, '--redis-url', server.url], { cwd: os.tmpdir() });
      const r = await cli('--json');
      expect(r.exitCode, String(r.stderr)).toBe(0);
      const report = JSON.parse(String(r.stdout));
      expect(report.queues).toHaveLength(1);
      const q = report.queues[0];
      expect(q).toMatchObject({ queue: 'slow', limit: { key: 'args[0].account', concurrency: 2, source: 'redis' }, held_total: 2, parked_total: 4 });
      expect(q.keys).toEqual([expect.objectContaining({ key: 'acme', held: 2, limit: 2, parked: 4, due: false })]);
      const holders = Object.entries(q.keys[0].holders);
      expect(holders).toHaveLength(1);
      expect(holders[0][1]).toBe(2);
      const why = JSON.parse(String((await cli('why', 'slow', 'acme', '--json')).stdout));
      expect(why.verdict).toBe('concurrency_full');
      expect(why.reasons.join('\n')).toContain(`2/2 slots held by ${holders[0][0]} (2)`);
      const free = JSON.parse(String((await cli('why', 'slow', 'other', '--json')).stdout));
      expect(free.verdict).toBe('nothing_parked');
      const table = await cli();
      expect(String(table.stdout)).toContain('slow: concurrency 2 per key args[0].account; 2 held, 4 parked');
      expect(String(table.stdout)).toMatch(/acme\s+2\/2/);
      const metrics = (await httpGet(port, '/metrics')).body;
      expect(metrics).toContain('verk_limit_slots_held{queue="slow"} 2');
      expect(metrics).toContain('verk_queue_parked_jobs{queue="slow"} 4');
      expect(metrics).toContain('verk_limit_audit_fixes_total 0');
      const notLimited = JSON.parse(String((await cli('why', 'default', 'x', '--json')).stdout));
      expect(notLimited.verdict).toBe('not_limited');
    } finally {
      signalGroup(w.pid!, 'SIGTERM');
      await w;
    }
    // The graceful stop handed the running jobs back and released their slots.
    expect(await server.client.hlen('verk:limit:slow:held')).toBe(0);
    expect(await server.client.llen('queue:slow')).toBe(2);
    expect(await server.client.llen('verk:limit:slow:parked:acme')).toBe(4);
  }, 60_000);

  it('verk work refuses a bad limit at start (exit 78), naming the file, the queue and the field', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-limits-'));
    const write = (limits: unknown) => fs.writeFileSync(path.join(dir, 'verk.config.json'), JSON.stringify({ redisUrl: server.url, handlers: '.', limits }));
    const cases: [unknown, string][] = [
      [{ api: { concurrency: 0 } }, 'verk.config.json: `limits` queue "api": concurrency must be a positive whole number, got 0'],
      [{ api: { concurrency: 2, rate: '5/fortnight' } }, 'verk.config.json: `limits` queue "api": rate has an unknown window "fortnight"'],
      [{ api: { key: 'args[0', concurrency: 2 } }, 'verk.config.json: `limits` queue "api": key "args[0" is not a key path'],
      [{ api: { concurency: 2 } }, 'verk.config.json: `limits` queue "api": unknown field `concurency`'],
    ];
    for (const [limits, message] of cases) {
      write(limits);
      const r = await verk(['work'], { cwd: dir, timeout: 30_000 });
      expect(r.exitCode, String(r.stderr)).toBe(78);
      expect(String(r.stderr)).toContain(message);
    }
  }, 90_000);
});
