// Prometheus metrics of one `verk work` (prom-client): job counters summed over the live
// worker processes and the ones that already exited, busy slots, fencing rejections,
// heartbeat age, per-worker RSS and event-loop lag, and queue sizes/latency read from Redis
// at scrape time (with a short timeout, so a slow Redis never hangs a scrape). The autoscaling
// signals (docs/operations.md, "Autoscaling"): per queue, this pod's busy slots, concurrency and
// saturation, which PromQL sums across the fleet, and the latency by Redis's clock.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ChildCounters, QueueCounts } from './ipc.js';
import type { SupervisorView } from './supervisor.js';
import { viewsOf } from './supervisor-view.js';
import { redisEvents, type RedisEvent } from '../redis/failover-stats.js';
import { withTimeout } from '../util/timeout.js';
import { timeReplySeconds } from '../redis/redis-clock.js';

/** How long a scrape waits for Redis before leaving the queue gauges out. */
const REDIS_READ_TIMEOUT_MS = 500;

type CountKey = keyof QueueCounts;

interface QueueReading {
  size: number;
  latencyS: number;
}
interface RedisReading {
  queues: Map<string, QueueReading>;
  /** Limited queues: slots held and jobs parked (docs/limits.md). */
  limits: Map<string, { held: number; parked: number }>;
  retry: number;
  schedule: number;
  dead: number;
}

export interface Metrics {
  registry: Registry;
  /** Prometheus text exposition (reads Redis once per call). */
  render(): Promise<string>;
  contentType: string;
}

export function createMetrics(sup: SupervisorView): Metrics {
  // The Redis Cluster layout: one supervisor per queue world, each with its own worker processes.
  const parts = () => viewsOf(sup);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  let reading: RedisReading | undefined;

  /** Every counter of every process this supervisor ran: live children plus exited ones. */
  const totals = (): ChildCounters[] => sup.counters();
  const perQueue = (key: CountKey): Map<string, number> => {
    const out = new Map<string, number>(sup.config.queues.map((q) => [q.name, 0]));
    for (const t of totals()) for (const [q, v] of Object.entries(t.perQueue)) out.set(q, (out.get(q) ?? 0) + (v[key] ?? 0));
    return out;
  };
  const jobCounter = (key: CountKey, help: string) =>
    new Counter({
      name: `verk_jobs_${key}_total`,
      help,
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [queue, n] of perQueue(key)) this.inc({ queue }, n);
      },
    });
  jobCounter('processed', 'Jobs that finished successfully and were acked.');
  jobCounter('failed', 'Jobs whose handler failed (threw, timed out, unknown class); each is also retried, dead or dropped.');
  jobCounter('retried', 'Failed jobs scheduled for a retry.');
  jobCounter('dead', 'Jobs moved to the dead set (retries exhausted or malformed).');
  jobCounter('dropped', 'Failed jobs dropped because their handler says retry: false.');

  new Counter({
    name: 'verk_jobs_recovered_total',
    help: 'Jobs handed back from exited worker processes or reaped from dead nodes by this supervisor.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sup.recovered);
    },
  });
  new Counter({
    name: 'verk_fencing_rejections_total',
    help: 'Acks/failures refused because the node no longer held the job.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(totals().reduce((n, t) => n + t.rejected, 0));
    },
  });
  new Counter({
    name: 'verk_redis_events_total',
    help: 'Failover replies (READONLY, MASTERDOWN, UNBLOCKED, LOADING, and in a Redis Cluster MOVED, CLUSTERDOWN: retried after a reconnect; ASK, TRYAGAIN: retried without one), reconnects, writes no replica confirmed (durability replicated) and running jobs taken back after a failover, over the supervisor and all its worker processes.',
    labelNames: ['event'],
    registers: [registry],
    collect() {
      this.reset();
      const sum: Partial<Record<RedisEvent, number>> = { ...redisEvents() };
      for (const t of totals()) for (const [e, n] of Object.entries(t.redis ?? {}) as [RedisEvent, number][]) sum[e] = (sum[e] ?? 0) + n;
      for (const [event, n] of Object.entries(sum)) this.inc({ event }, n);
    },
  });
  new Counter({
    name: 'verk_redis_failovers_total',
    help: 'Times the supervisor found itself connected to another Redis server than before (a failover or a restart) and reconciled its nodes.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sup.failover?.failovers ?? 0);
    },
  });
  new Counter({
    name: 'verk_failover_repairs_total',
    help: 'What the pass after a failover found: live nodes registered again (reregistered), nodes left to fencing because they were reaped (reaped).',
    labelNames: ['repair'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [repair, n] of Object.entries(sup.failover?.repairs ?? {})) this.inc({ repair }, n);
    },
  });
  gauge(registry, 'verk_busy_jobs', 'Jobs running now, over all worker processes.', [], (g) => g.set(sum((c) => c.busy)));
  gauge(registry, 'verk_concurrency', 'Job slots: per-process concurrency of all queues times live worker processes.', [], (g) =>
    g.set(parts().reduce((n, s) => n + s.workers().length * s.config.queues.reduce((m, q) => m + q.concurrency, 0), 0)),
  );
  gauge(registry, 'verk_worker_processes', 'Live worker processes.', [], (g) => g.set(sup.workers().length));
  gauge(registry, 'verk_worker_processes_wanted', 'Worker processes this supervisor keeps running (`processes`).', [], (g) => g.set(sup.config.processes));
  gauge(registry, 'verk_heartbeat_age_seconds', 'Age of the oldest successful heartbeat among live nodes.', [], (g) => g.set(sup.heartbeatAge() / 1000));
  gauge(registry, 'verk_quiet', '1 while quiet (SIGTSTP): no new jobs are fetched.', [], (g) => g.set(sup.state === 'quiet' ? 1 : 0));
  gauge(registry, 'verk_stopping', '1 while shutting down.', [], (g) => g.set(sup.state === 'stopping' || sup.state === 'stopped' ? 1 : 0));
  gauge(registry, 'verk_worker_busy_jobs', 'Jobs running now in one worker process.', ['node'], (g) => sup.workers().forEach((c) => g.set({ node: c.id }, c.busy)));
  gauge(registry, 'verk_worker_rss_bytes', 'Resident memory of one worker process.', ['node'], (g) => sup.workers().forEach((c) => g.set({ node: c.id }, c.rss)));
  gauge(registry, 'verk_worker_event_loop_lag_seconds', 'p99 event-loop delay of one worker process since the previous ping.', ['node'], (g) =>
    sup.workers().forEach((c) => g.set({ node: c.id }, (c.lagMs ?? 0) / 1000)),
  );
  gauge(registry, 'verk_redis_eviction_unsafe', '1 when Redis may evict keys (maxmemory-policy is not noeviction): queued jobs can vanish.', [], (g) =>
    g.set(sup.evictionWarning ? 1 : 0),
  );
  gauge(registry, 'verk_redis_up', '1 if the scrape could read Redis within its timeout.', [], (g) => g.set(reading ? 1 : 0));
  gauge(registry, 'verk_queue_size', 'Jobs waiting in a queue.', ['queue'], (g) => reading?.queues.forEach((r, queue) => g.set({ queue }, r.size)));
  gauge(registry, 'verk_queue_latency_seconds', "How long the next job of a queue has waited since it was enqueued, by Redis's clock.", ['queue'], (g) =>
    reading?.queues.forEach((r, queue) => g.set({ queue }, r.latencyS)),
  );
  // Per queue and pod; across the fleet: sum(busy) / sum(concurrency) by (queue).
  gauge(registry, 'verk_queue_busy_jobs', "Jobs of a queue running now in this pod's worker processes (as of their last ping).", ['queue'], (g) =>
    busyByQueue().forEach((n, queue) => g.set({ queue }, n)),
  );
  gauge(registry, 'verk_queue_concurrency', 'Job slots of a queue in this pod: its per-process concurrency times live worker processes.', ['queue'], (g) =>
    concurrencyByQueue().forEach((n, queue) => g.set({ queue }, n)),
  );
  gauge(registry, 'verk_queue_saturation', 'Busy ÷ concurrency of a queue in this pod (0 without live worker processes).', ['queue'], (g) => {
    const busy = busyByQueue();
    concurrencyByQueue().forEach((n, queue) => g.set({ queue }, n > 0 ? (busy.get(queue) ?? 0) / n : 0));
  });
  gauge(registry, 'verk_set_size', 'Jobs in the retry, schedule and dead sets.', ['set'], (g) => {
    if (!reading) return;
    for (const set of ['retry', 'schedule', 'dead'] as const) g.set({ set }, reading[set]);
  });

  cronMetrics(registry, sup);
  new Counter({
    name: 'verk_unique_swept_total',
    help: 'Unique locks released by this supervisor because their job existed nowhere (docs/unique-jobs.md; each also in verk:uniques:released).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sup.uniqueSweeper?.released ?? 0);
    },
  });
  if (limitedQueues(sup).length > 0) {
    gauge(registry, 'verk_limit_slots_held', 'Cluster-wide limits: slots held fleet-wide in a limited queue (all keys).', ['queue'], (g) =>
      reading?.limits.forEach((r, queue) => g.set({ queue }, r.held)),
    );
    gauge(
      registry,
      'verk_queue_parked_jobs',
      'Jobs of a limited queue parked behind a full or rate-limited key (not in queue:<q>, so not in verk_queue_size).',
      ['queue'],
      (g) => reading?.limits.forEach((r, queue) => g.set({ queue }, r.parked)),
    );
    new Counter({
      name: 'verk_limit_audit_fixes_total',
      help: 'Held counts (or ready entries) the limits audit of this supervisor had to fix; with correct scripts always 0.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(sup.limitAudit?.fixes ?? 0);
      },
    });
  }

  function busyByQueue(): Map<string, number> {
    const out = new Map<string, number>(sup.config.queues.map((q) => [q.name, 0]));
    for (const c of sup.workers()) for (const r of c.running) if (out.has(r.queue)) out.set(r.queue, (out.get(r.queue) ?? 0) + 1);
    return out;
  }
  function concurrencyByQueue(): Map<string, number> {
    return new Map(parts().flatMap((s) => s.config.queues.map((q) => [q.name, q.concurrency * s.workers().length] as const)));
  }

  function sum(f: (c: { busy: number }) => number): number {
    let n = 0;
    for (const c of sup.workers()) n += f(c);
    return n;
  }

  return {
    registry,
    contentType: registry.contentType,
    async render() {
      reading = await readRedis(sup).catch(() => undefined);
      // prom-client writes an empty event-loop histogram's mean as "Nan"; the format's spelling is NaN.
      return (await registry.metrics()).replace(/ Nan$/gm, ' NaN');
    },
  };
}

/** Periodic jobs: ticks this supervisor decided (by outcome; missed counts ticks) and the lag of each fire. */
function cronMetrics(registry: Registry, sup: SupervisorView): void {
  const cron = sup.cron;
  if (!cron || !Array.isArray(sup.config.cron) || sup.config.cron.length === 0) return;
  new Counter({
    name: 'verk_cron_ticks_total',
    help: 'Periodic ticks this supervisor decided: fired (job enqueued), skipped (paused, overlap) or missed (late, given up by catchUp). Summed over the fleet, each tick counts once.',
    labelNames: ['entry', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [entry, c] of cron.counts) for (const outcome of ['fired', 'skipped', 'missed'] as const) this.inc({ entry, outcome }, c[outcome]);
    },
  });
  new Counter({
    name: 'verk_cron_missed_ticks_total',
    help: 'Periodic ticks no node fired within their grace and catchUp gave up on (decided by this supervisor).',
    labelNames: ['entry'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [entry, c] of cron.counts) this.inc({ entry }, c.missed);
    },
  });
  new Histogram({
    name: 'verk_cron_tick_lag_seconds',
    help: "Fire instant (Redis's clock, in the tick script) minus the tick's scheduled instant, per job this supervisor enqueued.",
    labelNames: ['entry'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
    registers: [registry],
    collect() {
      for (const { entry, lagMs } of cron.drainLags()) this.observe({ entry }, lagMs / 1000);
    },
  });
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[], fill: (g: Gauge) => void): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      fill(this);
    },
  });
}

/**
 * Queue lengths, the age of each queue's next job (the RPOP end) by Redis's clock (TIME, so a pod
 * whose clock is off reports the same latency as the others) and the set sizes, in one pipeline.
 */
async function readRedis(sup: SupervisorView): Promise<RedisReading> {
  // The Redis Cluster layout: each world on its own connection; queues and limits are per world, sets summed.
  const parts = await Promise.all(viewsOf(sup).map(readOne));
  return {
    queues: new Map(parts.flatMap((p) => [...p.queues])),
    limits: new Map(parts.flatMap((p) => [...p.limits])),
    retry: parts.reduce((n, p) => n + p.retry, 0),
    schedule: parts.reduce((n, p) => n + p.schedule, 0),
    dead: parts.reduce((n, p) => n + p.dead, 0),
  };
}

async function readOne(sup: SupervisorView): Promise<RedisReading> {
  if (sup.redis.status !== 'ready') throw new Error('Redis not connected');
  const keys = sup.keys;
  const names = sup.config.queues.map((q) => q.name);
  const pipe = sup.redis.pipeline();
  for (const q of names) pipe.llen(keys.queue(q)).lindex(keys.queue(q), -1);
  pipe.zcard(keys.retry).zcard(keys.schedule).zcard(keys.dead).time();
  const res = await withTimeout(pipe.exec(), REDIS_READ_TIMEOUT_MS, 'Redis read timed out');
  if (!res) throw new Error('no reply');
  const value = (i: number) => {
    const [err, v] = res[i];
    if (err) throw err;
    return v;
  };
  const base = 2 * names.length;
  const now = timeReplySeconds(value(base + 3) as [string, string]);
  const queues = new Map<string, QueueReading>();
  names.forEach((q, i) => queues.set(q, { size: Number(value(2 * i)), latencyS: latencyOf(value(2 * i + 1) as string | null, now) }));
  return { queues, retry: Number(value(base)), schedule: Number(value(base + 1)), dead: Number(value(base + 2)), limits: await readLimits(sup) };
}

const limitedQueues = (sup: SupervisorView): string[] => (Array.isArray(sup.config.limits) ? sup.config.limits.map((l) => l.queue) : []);

/** Per limited queue: the held counts summed, and the parked lists' lengths (at most 1 000 keys read per queue). */
async function readLimits(sup: SupervisorView): Promise<RedisReading['limits']> {
  const out: RedisReading['limits'] = new Map();
  const names = limitedQueues(sup);
  if (names.length === 0) return out;
  const k = sup.keys;
  const first = sup.redis.pipeline();
  for (const q of names) first.hvals(k.limitHeld(q)).srandmember(k.limitKeys(q), 1000);
  const res = (await withTimeout(first.exec(), REDIS_READ_TIMEOUT_MS, 'Redis read timed out')) ?? [];
  const second = sup.redis.pipeline();
  const parkedKeys = names.map((_, i) => (res[2 * i + 1]?.[1] as string[] | null) ?? []);
  names.forEach((q, i) => parkedKeys[i].forEach((key) => second.llen(k.limitParked(q, key))));
  const lens = parkedKeys.some((x) => x.length) ? ((await withTimeout(second.exec(), REDIS_READ_TIMEOUT_MS, 'Redis read timed out')) ?? []) : [];
  let at = 0;
  names.forEach((q, i) => {
    const held = ((res[2 * i]?.[1] as string[] | null) ?? []).reduce((n, v) => n + Number(v), 0);
    let parked = 0;
    for (let j = 0; j < parkedKeys[i].length; j++) parked += Number(lens[at++]?.[1] ?? 0);
    out.set(q, { held, parked });
  });
  return out;
}

/** Seconds since the job's enqueued_at (float epoch seconds); 0 for an empty queue or an unreadable job. */
function latencyOf(raw: string | null, nowS: number): number {
  if (!raw) return 0;
  try {
    const at = (JSON.parse(raw) as { enqueued_at?: unknown }).enqueued_at;
    return typeof at === 'number' && Number.isFinite(at) ? Math.max(0, nowS - at) : 0;
  } catch {
    return 0;
  }
}
