// Duties in process against a private redis-server: the heartbeat renews registered nodes and
// reports a reaped one as refused (logged once); a node's lease is fenced from the time its last
// successful renewal was sent, not from a failed or slow beat; the duty runner logs a failing
// duty once per distinct error and once when it works again; the factory builds every duty.
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { testConfig } from '../helpers/config.js';
import { waitFor } from '../helpers/wait.js';
import { FakePool } from '../helpers/fake-pool.js';
import { Heartbeat, fenceMargin } from '../../src/core/duties/heartbeat.js';
import type { Duty } from '../../src/core/duties/duty.js';
import { DutyRunner } from '../../src/runner/duty-runner.js';
import { buildDuties } from '../../src/runner/duties.js';
import { Scheduler, pollIntervalMs } from '../../src/core/duties/scheduler.js';
import { Scripts } from '../../src/redis/scripts.js';
import { makeKeys } from '../../src/redis/keys.js';
import { createLogger, silentLogger } from '../../src/util/logger.js';
import { monotonicMs } from '../../src/util/clock.js';

let server: RedisServer;
let scripts: Scripts;
const keys = makeKeys('');
const config = testConfig({ heartbeatInterval: 100, nodeTtl: 900 });

usePrivateRedis((s) => {
  server = s;
  scripts = new Scripts(s.client, keys);
});

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(JSON.parse(l)) }) };
}

describe('heartbeat duty', () => {
  it('renews registered nodes and reports a reaped one as refused, logging it once', async () => {
    await scripts.register('n1', 900, 60_000, {});
    await scripts.register('n2', 900, 60_000, {});
    await server.client.srem(keys.nodes, 'n2'); // reaped
    const refused: string[] = [];
    const { lines, log } = capture();
    const hb = new Heartbeat(scripts, config, log, () => ['n1', 'n2'].map((id) => ({ id, info: () => ({ busy: 1 }) })), {
      onRefused: (id) => refused.push(id),
      onStale: () => undefined,
    });
    expect(await hb.tick()).toEqual({ renewed: 1, refused: 1, failed: 0 });
    expect(await hb.tick()).toEqual({ renewed: 1, refused: 1, failed: 0 });
    expect(refused).toEqual(['n2', 'n2']);
    expect(lines.filter((l) => l.msg === 'heartbeat refused: the node was reaped; fencing it')).toHaveLength(1);
    expect(await server.client.hget(keys.nodeInfo('n1'), 'busy')).toBe('1');
    hb.forget('n1');
    hb.forget('n2');
  });

  it('fences a lease from the time its last successful renewal was sent, never earlier', async () => {
    const stale: { id: string; at: number }[] = [];
    const hb = new Heartbeat(scripts, config, silentLogger, () => [], {
      onRefused: () => undefined,
      onStale: (ids) => ids.forEach((id) => stale.push({ id, at: monotonicMs() })),
    });
    const sentAt = monotonicMs();
    hb.renewed('n1', sentAt);
    expect(hb.fenceAfter).toBe(900 - fenceMargin(config));
    // A renewal sent earlier than the one already known does not shorten the lease.
    hb.renewed('n1', sentAt - 500);
    await waitFor(() => stale.length > 0, { what: 'the lease to run out', timeoutMs: 3000 });
    expect(stale[0].id).toBe('n1');
    expect(stale[0].at - sentAt).toBeGreaterThanOrEqual(hb.fenceAfter - 5);
    hb.forget('n1');
  });

  it("a beat that fails is logged at warn once per episode with Redis's error", async () => {
    await scripts.register('n1', 900, 60_000, {});
    const { lines, log } = capture();
    const broken = new Scripts(server.client, keys);
    (broken as unknown as { heartbeat: () => Promise<boolean> }).heartbeat = () => Promise.reject(new Error('OOM command not allowed when used memory > maxmemory'));
    const hb = new Heartbeat(broken, config, log, () => [{ id: 'n1', info: () => ({}) }], { onRefused: () => undefined, onStale: () => undefined });
    await hb.tick();
    await hb.tick();
    const warns = lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(String(warns[0].error)).toMatch(/OOM/);
    hb.forget('n1');
  });
});

describe('duty runner', () => {
  it('logs a failing duty once per distinct error and once when it works again', async () => {
    const { lines, log } = capture();
    let mode: 'a' | 'b' | 'ok' = 'a';
    const duty: Duty = {
      name: 'flaky',
      intervalMs: 10,
      jitter: 0,
      tick: async () => {
        if (mode === 'ok') return { done: 1 };
        throw new Error(`broken ${mode}`);
      },
    };
    const runner = new DutyRunner(log);
    await runner.run(duty);
    await runner.run(duty);
    mode = 'b';
    await runner.run(duty);
    mode = 'ok';
    await runner.run(duty);
    await runner.run(duty);
    expect(lines.map((l) => `${l.level} ${l.msg} ${l.error ?? l.error_was ?? ''}`)).toEqual([
      'warn flaky failed; retrying every interval broken a',
      'warn flaky failed; retrying every interval broken b',
      'info flaky works again broken b',
    ]);
    expect(runner.errors.get('flaky')).toBe(3);
    expect(runner.reports.get('flaky')).toEqual({ done: 1 });
  });

  it('the factory builds every duty with its interval from the config', () => {
    const d = buildDuties({
      config,
      log: silentLogger,
      scripts,
      redis: server.client,
      pool: new FakePool(),
      reaperId: 'me',
      beating: () => [],
      heartbeatEvents: { onRefused: () => undefined, onStale: () => undefined },
      sidekiqHost: {
        config,
        redis: server.client,
        scripts,
        state: 'running',
        children: new Map(),
        counters: () => [],
        quiet: () => undefined,
        stop: async () => undefined,
      },
    });
    const fixed = d.list.filter((x) => x.name !== 'scheduler');
    expect(fixed.map((x) => [x.name, x.intervalMs])).toEqual([
      ['heartbeat', config.heartbeatInterval],
      ['pool-watch', Math.min(config.heartbeatInterval, 1000)],
      ['reaper', config.reaperInterval],
      ['sidekiq-registry', Math.min(10_000, 2 * config.heartbeatInterval)],
      ['unique-sweeper', config.uniqueSweepInterval],
    ]);
    // Alone in its fleet, the scheduler polls every schedulerInterval ±50% (Sidekiq's rule).
    const waits = Array.from({ length: 50 }, () => d.scheduler.intervalMs);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(config.schedulerInterval * 0.5);
    expect(Math.max(...waits)).toBeLessThanOrEqual(config.schedulerInterval * 1.5);
  });

  it('the scheduler polls less often the more supervisors share the fleet, once per interval in all', async () => {
    const interval = 1000;
    for (const fleet of [1, 5, 10, 20]) {
      const mean = Array.from({ length: 2000 }, (_, i) => pollIntervalMs(interval, fleet, (i + 0.5) / 2000)).reduce((a, b) => a + b, 0) / 2000;
      // fleet supervisors each waiting `mean` on average: fleet / mean polls per ms in all.
      expect((fleet / mean) * interval).toBeCloseTo(1, 1);
    }
    // Capped: a lone survivor of a fleet that shrank polls again within a minute.
    expect(pollIntervalMs(1000, 5000, 0.99)).toBe(60_000);
    await server.client.sadd(keys.processes, 'a', 'b', 'c');
    const s = new Scheduler(scripts, config, silentLogger);
    await s.tick();
    expect(s.fleet).toBe(3);
  });
});
