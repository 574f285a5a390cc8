// `verk stuck`, part 1: jobs running longer than a threshold on live nodes. The start times
// come from the `running` field of the node's info hash (written by its supervisor on every
// beat, so up to one heartbeat stale); a live node without it (e.g. Elixir verk) has its
// in-progress lists listed instead, with the running time unknown.
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import { nodeLiveness, redisNowMs } from './node-registry.js';

export interface StuckJob {
  node: string;
  queue: string;
  jid: string | null;
  class: string | null;
  /** Epoch ms the job started (Redis clock of the supervisor's pong), null when unknown. */
  started_at: string | null;
  /** Seconds it has been running; null when the node records no start times. */
  running_s: number | null;
  /** info = the node's running-jobs record; inprogress = listed from its in-progress list (age unknown). */
  source: 'info' | 'inprogress';
}

export interface StuckFilter {
  olderThanMs: number;
  queue?: string;
}

interface RunningEntry {
  jid?: unknown;
  class?: unknown;
  queue?: unknown;
  started_at?: unknown;
}

/** Jobs in progress longer than the threshold on registered nodes whose heartbeat key exists. */
export async function stuckJobs(redis: Redis, keys: Keys, f: StuckFilter): Promise<{ jobs: StuckJob[]; dead_nodes: string[] }> {
  const now = await redisNowMs(redis);
  const { live, dead } = await nodeLiveness(redis, keys);
  const pipe = redis.pipeline();
  for (const id of live) pipe.hget(keys.nodeInfo(id), 'running');
  const res = live.length ? ((await pipe.exec()) ?? []) : [];
  const jobs: StuckJob[] = [];
  for (const [i, node] of live.entries()) {
    const running = parseRunning(res[i]?.[1] as string | null);
    if (running) {
      for (const r of running) {
        const queue = typeof r.queue === 'string' ? r.queue : '';
        const started = Number(r.started_at);
        if (!Number.isFinite(started) || (f.queue && queue !== f.queue)) continue;
        const age = now - started;
        if (age < f.olderThanMs) continue;
        jobs.push({
          node,
          queue,
          jid: typeof r.jid === 'string' ? r.jid : null,
          class: typeof r.class === 'string' ? r.class : null,
          started_at: new Date(started).toISOString(),
          running_s: Math.round(age / 1000),
          source: 'info',
        });
      }
    } else {
      jobs.push(...(await fromLists(redis, keys, node, f.queue)));
    }
  }
  jobs.sort((a, b) => (b.running_s ?? -1) - (a.running_s ?? -1) || a.node.localeCompare(b.node));
  return { jobs, dead_nodes: dead };
}

function parseRunning(text: string | null | undefined): RunningEntry[] | undefined {
  if (!text) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? (v.filter((e) => e && typeof e === 'object') as RunningEntry[]) : undefined;
  } catch {
    return undefined;
  }
}

async function fromLists(redis: Redis, keys: Keys, node: string, queue?: string): Promise<StuckJob[]> {
  const queues = queue ? [queue] : await redis.smembers(keys.nodeQueues(node));
  const out: StuckJob[] = [];
  for (const q of queues.sort()) {
    for (const raw of await redis.lrange(keys.inprogress(q, node), 0, 999)) {
      let jid: string | null = null;
      let cls: string | null = null;
      try {
        const o = JSON.parse(raw) as Record<string, unknown>;
        if (typeof o?.jid === 'string') jid = o.jid;
        if (typeof o?.class === 'string') cls = o.class;
      } catch {
        /* shown without jid/class */
      }
      out.push({ node, queue: q, jid, class: cls, started_at: null, running_s: null, source: 'inprogress' });
    }
  }
  return out;
}
