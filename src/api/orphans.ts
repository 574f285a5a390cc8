// `verk stuck`, part 2: in-progress lists that no registered node owns (SCAN inprogress:*),
// e.g. left by a fixed-id node that never came back or by a queue missing from a reaped node's
// queue set, and claim lists of nodes that no longer exist (SCAN verk:node:*:claim:*: an idle
// wait whose connection died between its BLMOVE and its claim script, docs/decisions.md); and handing them back to the front of their queues (lua/requeue-orphan-2.lua,
// atomic per batch, re-checking ownership in the script; recoveries are not counted; the work is
// in src/redis/orphan-lists.ts, shared with the supervisor's pass after a failover).
// An unowned list may still be live: see ORPHAN_REQUEUE_WARNING.
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import { findOrphanLists, type OrphanList } from '../redis/orphan-lists.js';

export { requeueOrphans, type OrphanList, type OrphanRequeue } from '../redis/orphan-lists.js';

/**
 * Why requeueing orphan lists is only done on an explicit request: a fixed-id Elixir verk node
 * writes no heartbeat or registry entry, so the lists of a node that is running right now look
 * exactly like those of one that is gone. (The supervisor's pass after a failover hands back only
 * claim lists and lists of nodes the fleet's timeline or recovery history names: verk nodes.)
 */
export const ORPHAN_REQUEUE_WARNING =
  'in-progress lists that no registered node owns may still be live: a fixed-id Elixir verk node writes no heartbeat or registry ' +
  'entry, so its in-progress lists look unowned while it runs them; requeueing them runs those jobs twice. Only requeue them when ' +
  'you know no such node uses these node ids.';

/** Every orphaned list (the whole keyspace is scanned), sorted by key. */
export async function orphanLists(redis: Redis, keys: Keys, queue?: string): Promise<OrphanList[]> {
  return (await findOrphanLists(redis, keys, { queue })).lists;
}
