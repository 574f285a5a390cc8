// Builds node states by hand for the admin-command tests: registered nodes with or without a
// heartbeat key, info hashes as our supervisor writes them, in-progress lists, Elixir verk
// nodes (no info hash), and Sidekiq-shaped job payloads.
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/redis/keys.js';

export interface FakeNode {
  id: string;
  /** Heartbeat TTL in ms; omit for a dead node (no heartbeat key). */
  ttlMs?: number;
  /** Jobs per queue, in in-progress order (index 0 = most recently fetched). */
  inprogress?: Record<string, string[]>;
  /** Fields of verk:node:<id>:info; omit for an Elixir verk node. */
  info?: Record<string, string | number>;
  /** Only in verk:reaping (a reaper has started on it). */
  reapingOnly?: boolean;
}

export async function redisMs(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

export async function fabricateNode(redis: Redis, keys: Keys, n: FakeNode): Promise<void> {
  await redis.sadd(n.reapingOnly ? keys.reaping : keys.nodes, n.id);
  if (n.ttlMs !== undefined) await redis.set(keys.node(n.id), 'alive', 'PX', n.ttlMs);
  if (n.info) await redis.hset(keys.nodeInfo(n.id), n.info);
  for (const [q, jobs] of Object.entries(n.inprogress ?? {})) {
    await redis.sadd(keys.nodeQueues(n.id), q);
    // RPUSH keeps the given order: index 0 first.
    if (jobs.length) await redis.rpush(keys.inprogress(q, n.id), ...jobs);
  }
}

export function job(jid: string, opts: { queue?: string; cls?: string; args?: string } = {}): string {
  return `{"class":"${opts.cls ?? 'Work.Thing'}","args":${opts.args ?? '[1]'},"queue":"${opts.queue ?? 'default'}","jid":"${jid}","retry":true,"created_at":1700000000.5,"enqueued_at":1700000001.25}`;
}

/** A snapshot of every key (DUMP), to prove a read-only command changed nothing. */
export async function snapshot(redis: Redis): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of (await redis.keys('*')).sort()) {
    const d = await redis.dumpBuffer(k);
    out[k] = d ? d.toString('base64') : '';
  }
  return out;
}
