// The part of the pass after a failover (src/runner/failover-watch.ts) that finds lists of jobs
// no node owns any more: in-progress lists and claim lists whose node is neither registered
// (verk_nodes, verk:reaping) nor alive (its heartbeat key), read by a bounded SCAN
// (FAILOVER.maxScanPages per kind of list). The reaper never visits them: it only looks at
// registered nodes. Handed back to the front of their queues (lua/requeue-orphan-2.lua, which
// re-checks registration and heartbeat in the same script, batch by batch) are only lists a verk
// node surely left: claim lists (only verk writes them; their jobs never started) and in-progress
// lists of nodes the fleet's timeline (verk:events) or the recovery history (verk:recoveries)
// names. A fixed-id Elixir verk node writes neither, and its live lists look the same
// (ORPHAN_REQUEUE_WARNING in src/api/orphans.ts): such lists are counted, logged and left to
// `verk stuck --requeue-orphans`.
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import { FAILOVER, FLEET } from '../config/defaults.js';
import { findOrphanLists, requeueOrphans, type OrphanList } from '../redis/orphan-lists.js';
import type { Scripts } from '../redis/scripts.js';

export interface OrphanPass {
  /** Jobs handed back to their queues. */
  requeued: number;
  /** Lists handed back (some may have been refused: their node registered meanwhile). */
  lists: number;
  /** Orphaned in-progress lists left alone: nothing shows a verk node wrote them. */
  left: OrphanList[];
  /** False when the SCAN bound cut the search short (the rest: `verk stuck`). */
  complete: boolean;
}

/** Node ids named by the newest `n` JSON entries (`{ node }`) of a list. */
export async function nodesNamedIn(redis: Redis, key: string, n: number): Promise<Set<string>> {
  const out = new Set<string>();
  for (const e of await redis.lrange(key, 0, n - 1)) {
    try {
      const node = (JSON.parse(e) as { node?: unknown }).node;
      if (typeof node === 'string') out.add(node);
    } catch {
      // not ours to judge
    }
  }
  return out;
}

/** Finds the orphaned lists and hands back those of nodes known to be verk nodes that are gone. `live`: this supervisor's nodes. */
export async function requeueFailoverOrphans(scripts: Scripts, config: Config, live: ReadonlySet<string>): Promise<OrphanPass> {
  const { redis, keys } = scripts;
  const found = await findOrphanLists(redis, keys, { maxPages: FAILOVER.maxScanPages });
  const lists = found.lists.filter((l) => !live.has(l.node));
  if (lists.length === 0) return { requeued: 0, lists: 0, left: [], complete: found.complete };
  const known = new Set([...(await nodesNamedIn(redis, keys.events, FLEET.eventsKept)), ...(await nodesNamedIn(redis, keys.recoveries, FAILOVER.historyChecked))]);
  const ours = lists.filter((l) => l.kind === 'claim' || known.has(l.node));
  const done = await requeueOrphans(scripts, ours, config.reapBatch);
  return {
    requeued: done.reduce((n, r) => n + r.requeued, 0),
    lists: done.filter((r) => r.requeued > 0).length,
    left: lists.filter((l) => !ours.includes(l)),
    complete: found.complete,
  };
}
