// `verk nodes`: every registered node (verk_nodes ∪ verk:reaping) with its liveness (heartbeat
// key present), seconds since its last beat and TTL left (Redis's clock), queues, jobs in
// progress and the metadata our supervisor writes. Nodes written by Elixir verk have no info
// hash: their metadata fields are null.
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import { redisNowMs, registeredNodes } from './node-registry.js';

export interface NodeRow {
  id: string;
  /** The heartbeat key verk:node:<id> exists. */
  alive: boolean;
  /** In verk_nodes (false while only in verk:reaping: a reaper has started on it). */
  registered: boolean;
  reaping: boolean;
  host: string | null;
  pid: number | null;
  supervisor_pid: number | null;
  /** The Sidekiq identity of the `verk work` supervisor that owns the node (`verk processes`, `verk quiet`). */
  identity: string | null;
  /** Seconds since the last heartbeat recorded in the info hash (Redis clock). */
  last_beat_s: number | null;
  /** Milliseconds the heartbeat key has left (PTTL); null when it is gone or has no TTL. */
  ttl_ms: number | null;
  queues: string[];
  in_progress: number;
  in_progress_by_queue: Record<string, number>;
  /** ISO 8601. */
  started_at: string | null;
  registered_at: string | null;
  version: string | null;
  busy: number | null;
  state: string | null;
  rss: number | null;
}

export interface NodesReport {
  /** Redis's clock when the report was taken, ISO 8601. */
  redis_time: string;
  nodes: NodeRow[];
}

export async function listNodes(redis: Redis, keys: Keys): Promise<NodesReport> {
  const now = await redisNowMs(redis);
  const { ids, registered, reaping } = await registeredNodes(redis, keys);
  const pipe = redis.pipeline();
  for (const id of ids) pipe.pttl(keys.node(id)).hgetall(keys.nodeInfo(id)).smembers(keys.nodeQueues(id));
  const res = ids.length ? ((await pipe.exec()) ?? []) : [];
  const rows = ids.map((id, i) => {
    const pttl = Number(res[i * 3]?.[1] ?? -2);
    const info = (res[i * 3 + 1]?.[1] ?? {}) as Record<string, string>;
    const queues = ((res[i * 3 + 2]?.[1] ?? []) as string[]).slice().sort();
    return { id, pttl, info, queues };
  });
  const lpipe = redis.pipeline();
  for (const r of rows) for (const q of r.queues) lpipe.llen(keys.inprogress(q, r.id));
  const lens = rows.some((r) => r.queues.length) ? ((await lpipe.exec()) ?? []) : [];
  let li = 0;
  const nodes = rows.map(({ id, pttl, info, queues }): NodeRow => {
    const byQueue: Record<string, number> = {};
    for (const q of queues) byQueue[q] = Number(lens[li++]?.[1] ?? 0);
    // A live verk node's last renewal is read off its key (its TTL minus what is left): its
    // metadata, and the `beat` in it, is written only when it changes or every few beats.
    const ttl = num(info.ttl_ms);
    const beat = pttl >= 0 && ttl !== null ? now - Math.max(0, ttl - pttl) : num(info.beat);
    return {
      id,
      alive: pttl !== -2,
      registered: registered.has(id),
      reaping: reaping.has(id),
      host: info.host ?? null,
      pid: num(info.pid),
      supervisor_pid: num(info.supervisor_pid),
      identity: info.identity ?? null,
      last_beat_s: beat === null ? null : Math.max(0, Math.round((now - beat) / 100) / 10),
      ttl_ms: pttl >= 0 ? pttl : null,
      queues,
      in_progress: Object.values(byQueue).reduce((a, b) => a + b, 0),
      in_progress_by_queue: byQueue,
      started_at: iso(num(info.started_at), 1000),
      registered_at: iso(num(info.registered_at), 1),
      version: info.version ?? null,
      busy: num(info.busy),
      state: info.state ?? null,
      rss: num(info.rss),
    };
  });
  return { redis_time: new Date(now).toISOString(), nodes };
}

function num(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function iso(v: number | null, scale: number): string | null {
  return v === null ? null : new Date(v * scale).toISOString();
}
