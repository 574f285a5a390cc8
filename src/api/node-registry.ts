// Node registry reads shared by the node admin operations (nodes, requeue-dead, stuck): the
// registered node ids (verk_nodes ∪ verk:reaping), parsing in-progress list names, and Redis's
// clock in milliseconds (ages are measured on it, never on the local clock).
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import { redisNow } from './admin-context.js';

/** Redis's clock in epoch milliseconds (TIME). */
export async function redisNowMs(redis: Redis): Promise<number> {
  return Math.floor((await redisNow(redis)) * 1000);
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

/** Registered node ids: verk_nodes plus nodes whose reaping has started (verk:reaping), sorted. */
export async function registeredNodes(redis: Redis, keys: Keys): Promise<{ ids: string[]; registered: Set<string>; reaping: Set<string> }> {
  const [reg, reaping] = await Promise.all([redis.smembers(keys.nodes), redis.smembers(keys.reaping)]);
  const ids = [...new Set([...reg, ...reaping])].sort();
  return { ids, registered: new Set(reg), reaping: new Set(reaping) };
}
