// Which verk nodes exist and which are alive — one home for the reads the reaper, the admin
// commands and the health of a fleet all need (docs/redis.md): registered = verk_nodes ∪
// verk:reaping (a reap has started but not finished); alive = its heartbeat key exists (TTL on
// Redis's clock); dead = registered and not alive. Elixir verk nodes, which write only
// verk_nodes and their heartbeat key, are read the same way. Ages use Redis's clock (TIME).
import type { Redis } from 'ioredis';
export { redisNowMs } from './redis-clock.js';
import type { Keys } from './keys.js';

export interface Registry {
  /** Every registered node id, sorted. */
  ids: string[];
  registered: Set<string>;
  reaping: Set<string>;
}

/** Registered node ids: verk_nodes plus nodes whose reaping has started (verk:reaping). */
export async function registeredNodes(redis: Redis, keys: Keys): Promise<Registry> {
  const [reg, reaping] = await Promise.all([redis.smembers(keys.nodes), redis.smembers(keys.reaping)]);
  const ids = [...new Set([...reg, ...reaping])].sort();
  return { ids, registered: new Set(reg), reaping: new Set(reaping) };
}

/** For each id, whether its heartbeat key exists (one pipeline). */
export async function heartbeatsAlive(redis: Redis, keys: Keys, ids: readonly string[]): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  if (ids.length === 0) return out;
  const pipe = redis.pipeline();
  for (const id of ids) pipe.exists(keys.node(id));
  const res = (await pipe.exec()) ?? [];
  ids.forEach((id, i) => {
    const [err, v] = res[i] ?? [new Error('no reply'), null];
    if (err) throw err;
    out.set(id, v === 1);
  });
  return out;
}

/** Registered nodes split by liveness. */
export async function nodeLiveness(redis: Redis, keys: Keys): Promise<Registry & { live: string[]; dead: string[] }> {
  const reg = await registeredNodes(redis, keys);
  const alive = await heartbeatsAlive(redis, keys, reg.ids);
  return { ...reg, live: reg.ids.filter((id) => alive.get(id)), dead: reg.ids.filter((id) => !alive.get(id)) };
}

/** Splits `verk:node:<node>:claim:<queue>` (after the prefix); node ids may hold ':', queue names not. */
export function parseClaimKey(keys: Keys, key: string): { queue: string; node: string } | undefined {
  const head = `${keys.prefix}verk:node:`;
  const i = key.lastIndexOf(':claim:');
  if (!key.startsWith(head) || i <= head.length) return undefined;
  const queue = key.slice(i + ':claim:'.length);
  if (!queue || queue.includes(':')) return undefined;
  return { queue, node: key.slice(head.length, i) };
}

/** Splits `inprogress:<queue>:<node>` (after the prefix): the queue is the first segment, the node the rest. */
export function parseInprogressKey(keys: Keys, key: string): { queue: string; node: string } | undefined {
  const head = `${keys.prefix}inprogress:`;
  if (!key.startsWith(head)) return undefined;
  const rest = key.slice(head.length);
  const i = rest.indexOf(':');
  if (i <= 0 || i === rest.length - 1) return undefined;
  return { queue: rest.slice(0, i), node: rest.slice(i + 1) };
}
