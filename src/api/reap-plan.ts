// `verk requeue-dead --dry-run`: what a reaper pass would do, computed here without writing
// anything. Mirrors lua/reap-3.lua: only queues in verk:node:<id>:queues are reaped; a job
// counts a recovery only with evidence that it started on the node (its identity in the
// node's `running` snapshot or in verk:node:<id>:started); then its count is
// verk:recovered:<identity> + 1 (payloadIdentity, src/job/identity.ts) and over maxRecoveries
// a JSON object goes to dead as a poison pill; everything else is requeued.
import type { Redis } from 'ioredis';
import { decodePayload, jidIdentity } from '../job/identity.js';
import type { Keys } from '../redis/keys.js';
import type { Config } from '../config/schema.js';
import type { AdminContext } from './admin-context.js';
import { redisNowMs } from './node-registry.js';
import { targets } from './requeue-dead.js';

export interface PlanDeadJob {
  jid: string;
  class: string | null;
  queue: string;
  /** Recoveries recorded before this pass. */
  recoveries: number;
  max_recoveries: number;
  reason: string;
}

export interface PlanQueue {
  queue: string;
  jobs: number;
  requeue: number;
  dead: number;
}

export interface NodePlan {
  node: string;
  status: 'would_reap' | 'alive' | 'not_registered';
  /** Seconds since its last beat (info hash, Redis clock); null when unknown (e.g. Elixir verk). */
  silent_s: number | null;
  /** The heartbeat TTL in the resolved config, ms. */
  node_ttl_ms: number;
  queues: PlanQueue[];
  requeue: number;
  dead: number;
  /** Jobs that would be requeued without a recovery counted (no evidence they started). */
  unstarted: number;
  dead_jobs: PlanDeadJob[];
}

export interface ReapPlanReport {
  dry_run: true;
  max_recoveries: number;
  nodes: NodePlan[];
  requeue: number;
  dead: number;
}

const CHUNK = 1000;

export async function planReap(admin: AdminContext, config: Readonly<Config>, opts: { node?: string } = {}): Promise<ReapPlanReport> {
  const { redis, keys } = admin;
  const max = config.maxRecoveries;
  const now = await redisNowMs(redis);
  const report: ReapPlanReport = { dry_run: true, max_recoveries: max, nodes: [], requeue: 0, dead: 0 };
  /** Counts as the pass would leave them, so a jid seen twice is counted twice, as the script does. */
  const counts = new Map<string, number>();
  for (const t of await targets(redis, keys, opts.node)) {
    const beat = await redis.hget(keys.nodeInfo(t.node), 'beat');
    const plan: NodePlan = {
      node: t.node,
      status: t.status === 'dead' ? 'would_reap' : t.status,
      silent_s: beat ? Math.max(0, Math.round((now - Number(beat)) / 1000)) : null,
      node_ttl_ms: config.nodeTtl,
      queues: [],
      requeue: 0,
      dead: 0,
      unstarted: 0,
      dead_jobs: [],
    };
    report.nodes.push(plan);
    if (t.status !== 'dead') continue;
    const started = await startedIds(redis, keys, t.node);
    for (const queue of await redis.smembers(keys.nodeQueues(t.node))) {
      const pq: PlanQueue = { queue, jobs: 0, requeue: 0, dead: 0 };
      const list = keys.inprogress(queue, t.node);
      for (let start = 0; ; start += CHUNK) {
        const raws = await redis.lrangeBuffer(list, start, start + CHUNK - 1);
        if (raws.length === 0) break;
        const parsed = raws.map(inspect);
        await loadCounts(
          redis,
          keys,
          parsed.map((p) => p.jid),
          counts,
        );
        parsed.forEach((p) => {
          pq.jobs++;
          if (!started.has(p.jid)) {
            pq.requeue++;
            plan.unstarted++;
            return;
          }
          const before = counts.get(p.jid)!;
          counts.set(p.jid, before + 1);
          if (before + 1 > max && p.object) {
            pq.dead++;
            plan.dead_jobs.push({
              jid: p.jid,
              class: p.className,
              queue,
              recoveries: before,
              max_recoveries: max,
              reason: `would be recovered a ${ordinal(before + 1)} time, more than maxRecoveries ${max} (poison pill)`,
            });
          } else pq.requeue++;
        });
        if (raws.length < CHUNK) break;
      }
      if (pq.jobs === 0) continue;
      plan.queues.push(pq);
      plan.requeue += pq.requeue;
      plan.dead += pq.dead;
    }
    plan.queues.sort((a, b) => a.queue.localeCompare(b.queue));
    report.requeue += plan.requeue;
    report.dead += plan.dead;
  }
  return report;
}

interface Inspected {
  jid: string;
  className: string | null;
  object: boolean;
}

/** The identity the reap script would use, and whether it would treat the payload as a JSON object. */
function inspect(raw: Buffer): Inspected {
  const { job, identity } = decodePayload(raw);
  return { jid: identity, className: job && typeof job.class === 'string' ? job.class : null, object: job !== undefined };
}

/** The evidence the reap script reads that a job started on the node (bad data is no evidence). */
async function startedIds(redis: Redis, keys: Keys, node: string): Promise<Set<string>> {
  const ids = new Set<string>();
  const add = (v: unknown) => {
    const id = jidIdentity(v);
    if (id !== undefined) ids.add(id);
  };
  const [running, members] = await Promise.all([
    redis.hget(keys.nodeInfo(node), 'running').catch(() => null),
    redis.smembers(keys.nodeStarted(node)).catch(() => [] as string[]),
  ]);
  try {
    const list: unknown = running === null ? [] : JSON.parse(running);
    if (Array.isArray(list)) for (const e of list) if (e !== null && typeof e === 'object') add((e as { jid?: unknown }).jid);
  } catch {
    /* not JSON: no evidence */
  }
  members.forEach(add);
  return ids;
}

async function loadCounts(redis: Redis, keys: Keys, jids: string[], counts: Map<string, number>): Promise<void> {
  const missing = [...new Set(jids.filter((j) => !counts.has(j)))];
  if (missing.length === 0) return;
  const values = await redis.mget(...missing.map((j) => keys.recovered(j))); // nil for a key of another type, as the script's pcall(GET)
  missing.forEach((j, i) => counts.set(j, recoveryCount(values[i])));
}

/** A stored count as the script reads it: a number from 0 to 1e9 (floored), anything else 0. */
function recoveryCount(v: string | null): number {
  const n = v === null || v.trim() === '' ? 0 : Number(v);
  return Number.isFinite(n) && n >= 0 && n <= 1e9 ? Math.floor(n) : 0;
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${n}${s}`;
}
