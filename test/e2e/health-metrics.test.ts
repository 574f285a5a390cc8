// The health server with the built CLI: /metrics parses as Prometheus text and its counters
// match the jobs that ran; /livez and /readyz turn 503 when Redis goes away (heartbeats stop)
// and recover when it returns; the outage is logged once when it starts and once when it ends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, freePort, type RedisServer } from '../helpers/redis-server.js';
import { startWorker, signalGroup } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { SLEEP_HANDLER, enqueueRaw, fastArgs, httpGet, jsonLines, projectWithHandlers, rawJob, registeredNodes } from '../helpers/e2e-kit.js';

let redis: RedisServer;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  redis.client.on('error', () => undefined); // the test kills this server on purpose
  dir = projectWithHandlers({
    Sleep: SLEEP_HANDLER,
    Boom: `export function perform() { throw new Error('boom'); }\n`,
    Drop: `export const options = { retry: false };\nexport function perform() { throw new Error('dropped'); }\n`,
  });
});
afterAll(async () => {
  await redis?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the Prometheus text format (0.0.4): every sample belongs to a declared family. */
function parsePrometheus(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      if (m[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(m[3]);
        types.set(m[2], m[3]);
      }
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const rest = m[2].replace(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g, (_a, k: string, v: string) => {
        labels[k] = v;
        return '';
      });
      if (rest !== '') throw new Error(`bad labels in: ${line}`);
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value in: ${line}`);
    const family = m[1].replace(/_(bucket|sum|count|total|created)$/, '');
    if (!types.has(m[1]) && !types.has(family)) throw new Error(`sample without # TYPE: ${line}`);
    samples.push({ name: m[1], labels, value });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('health server', () => {
  it('/metrics is Prometheus text whose counters match what ran', async () => {
    await redis.client.flushall();
    const port = await freePort();
    const worker = startWorker(fastArgs(redis.url, ['-p', '2', '-q', 'default:5,slow:1', '--shutdown-timeout', '1s', '--health-port', String(port)]), { cwd: dir });
    try {
      await waitFor(async () => (await registeredNodes(redis.client)).filter((n) => n.state === 'running').length === 2, { timeoutMs: 15_000, what: '2 running nodes' });
      await enqueueRaw(redis.client, [...Array.from({ length: 5 }, () => rawJob('Sleep', [10])), rawJob('Boom', []), rawJob('Boom', []), rawJob('Drop', [])]);
      // Each process runs one slow job at a time: two run, one waits in the queue.
      const slow = Array.from({ length: 3 }, () => rawJob('Sleep', [30_000], { queue: 'slow' }));
      await enqueueRaw(redis.client, slow, 'slow');

      const samples = await waitFor(
        async () => {
          const r = await httpGet(port, '/metrics');
          if (r.status !== 200) return undefined;
          const s = parsePrometheus(r.body);
          return value(s, 'verk_jobs_processed_total', { queue: 'default' }) === 5 &&
            value(s, 'verk_jobs_failed_total', { queue: 'default' }) === 3 &&
            value(s, 'verk_busy_jobs') === 2
            ? s
            : undefined;
        },
        { timeoutMs: 10_000, what: 'metrics to show the jobs that ran' },
      );

      expect(value(samples, 'verk_jobs_retried_total', { queue: 'default' })).toBe(2);
      expect(value(samples, 'verk_jobs_dropped_total', { queue: 'default' })).toBe(1);
      expect(value(samples, 'verk_jobs_dead_total', { queue: 'default' })).toBe(0);
      expect(value(samples, 'verk_jobs_processed_total', { queue: 'slow' })).toBe(0);
      expect(value(samples, 'verk_jobs_recovered_total')).toBe(0);
      expect(value(samples, 'verk_fencing_rejections_total')).toBe(0);
      expect(value(samples, 'verk_worker_processes')).toBe(2);
      expect(value(samples, 'verk_concurrency')).toBe(12);
      expect(value(samples, 'verk_queue_size', { queue: 'slow' })).toBe(1);
      expect(value(samples, 'verk_queue_size', { queue: 'default' })).toBe(0);
      expect(value(samples, 'verk_queue_latency_seconds', { queue: 'slow' })).toBeGreaterThan(0);
      expect(value(samples, 'verk_set_size', { set: 'retry' })).toBe(2);
      expect(value(samples, 'verk_redis_up')).toBe(1);
      // No failover here: the server is the one seen at start, nothing reconciled, no failover reply.
      expect(value(samples, 'verk_redis_failovers_total')).toBe(0);
      expect(samples.filter((s) => s.name === 'verk_redis_events_total' && s.labels.event === 'READONLY')).toEqual([]);
      // Fresh beats are ~0.1 s old; on a loaded machine a beat may miss its 100 ms reply limit.
      expect(value(samples, 'verk_heartbeat_age_seconds')).toBeGreaterThanOrEqual(0);
      expect(value(samples, 'verk_heartbeat_age_seconds')).toBeLessThan(60);
      const rss = samples.filter((s) => s.name === 'verk_worker_rss_bytes');
      expect(rss).toHaveLength(2);
      for (const s of rss) expect(s.value).toBeGreaterThan(10_000_000);
      expect(samples.filter((s) => s.name === 'verk_worker_event_loop_lag_seconds')).toHaveLength(2);
      expect(value(samples, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
      expect(value(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      // The Redis counters agree (stat:processed also counts failures, Sidekiq's rule).
      expect(await redis.client.get('stat:processed:default')).toBe('8');
      expect(await redis.client.get('stat:failed:default')).toBe('3');
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
      expect((await worker).exitCode).toBe(0);
    }
  });

  it('/livez and /readyz turn 503 when Redis is gone for nodeTtl/2 and recover; the outage is logged once each way', async () => {
    await redis.client.flushall();
    const port = await freePort();
    const worker = startWorker(fastArgs(redis.url, ['-p', '1', '--shutdown-timeout', '1s', '--health-port', String(port)]), { cwd: dir });
    let output = '';
    worker.all?.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitFor(async () => (await httpGet(port, '/readyz')).status === 200, { timeoutMs: 15_000, what: '/readyz 200' });
      expect((await httpGet(port, '/livez')).status).toBe(200);

      process.kill(redis.pid, 'SIGKILL');
      const t0 = Date.now();
      const dead = await waitFor(
        async () => {
          const r = await httpGet(port, '/livez');
          return r.status === 503 ? r : undefined;
        },
        { timeoutMs: 5_000, what: '/livez 503' },
      );
      const detectMs = Date.now() - t0;
      console.log(`Redis down → /livez 503 after ${detectMs}ms (nodeTtl/2 = 300ms)`);
      expect(JSON.parse(dead.body).reasons.join(' ')).toMatch(/heartbeat not renewed/);
      const notReady = await httpGet(port, '/readyz');
      expect(notReady.status).toBe(503);
      expect(JSON.parse(notReady.body).reasons).toContain('Redis unreachable');
      // Keep it down a while: several reconnect attempts must still log the outage once.
      await new Promise((r) => setTimeout(r, 1500));

      await redis.restart();
      await waitFor(async () => (await httpGet(port, '/livez')).status === 200, { timeoutMs: 15_000, what: '/livez 200 again' });
      await waitFor(async () => (await httpGet(port, '/readyz')).status === 200, { timeoutMs: 15_000, what: '/readyz 200 again' });

      const lines = jsonLines(output).filter((l) => l.conn === 'verk:supervisor');
      const lost = lines.filter((l) => l.msg === 'Redis connection lost; reconnecting');
      const back = lines.filter((l) => l.msg === 'Redis reachable again');
      expect(lost).toHaveLength(1);
      expect(back).toHaveLength(1);
      expect(Number(back[0].outage_ms)).toBeGreaterThanOrEqual(1500);
      // No per-job or per-attempt noise: each connection logs its outage once.
      const perConn = new Map<string, number>();
      for (const l of jsonLines(output).filter((x) => x.msg === 'Redis connection lost; reconnecting'))
        perConn.set(String(l.conn), (perConn.get(String(l.conn)) ?? 0) + 1);
      for (const [conn, n] of perConn) expect(n, conn).toBe(1);
      // The restarted Redis is empty, so the node's heartbeat is refused: logged once per node.
      const refused = jsonLines(output).filter((l) => String(l.msg).startsWith('heartbeat refused'));
      expect(new Set(refused.map((l) => l.node)).size).toBe(refused.length);
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
      const res = await worker;
      if (res.exitCode !== 0) console.log(output);
      expect(res.exitCode).toBe(0);
    }
  });
});
