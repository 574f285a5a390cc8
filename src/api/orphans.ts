// `verk stuck`, part 2: in-progress lists that no registered node owns (SCAN inprogress:*),
// e.g. left by a fixed-id node that never came back or by a queue missing from a reaped node's
// queue set, and claim lists of nodes that no longer exist (SCAN verk:node:*:claim:*: an idle
// wait whose connection died between its BLMOVE and its claim script, docs/decisions.md); and handing them back to the front of their queues (lua/requeue-orphan-2.lua,
// atomic per batch, re-checking ownership in the script; recoveries are not counted).
// An unowned list may still be live: see ORPHAN_REQUEUE_WARNING.
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import type { Scripts } from '../redis/scripts.js';
import { parseClaimKey, parseInprogressKey, registeredNodes } from './node-registry.js';

export interface OrphanList {
  key: string;
  /** An in-progress list, or a claim list left by an idle wait. */
  kind: 'inprogress' | 'claim';
  queue: string;
  node: string;
  jobs: number;
}

export interface OrphanRequeue extends OrphanList {
  /** moved: handed back; owned: the node registered meanwhile; alive: its heartbeat key exists. */
  status: 'moved' | 'owned' | 'alive';
  requeued: number;
}

/**
 * Why requeueing orphan lists is only done on an explicit request: a fixed-id Elixir verk node
 * writes no heartbeat or registry entry, so the lists of a node that is running right now look
 * exactly like those of one that is gone.
 */
export const ORPHAN_REQUEUE_WARNING =
  'in-progress lists that no registered node owns may still be live: a fixed-id Elixir verk node writes no heartbeat or registry ' +
  'entry, so its in-progress lists look unowned while it runs them; requeueing them runs those jobs twice. Only requeue them when ' +
  'you know no such node uses these node ids.';

export async function orphanLists(redis: Redis, keys: Keys, queue?: string): Promise<OrphanList[]> {
  const { ids } = await registeredNodes(redis, keys);
  const owned = new Set(ids);
  const found: { key: string; kind: OrphanList['kind']; queue: string; node: string }[] = [];
  const seen = new Set<string>();
  for (const kind of ['inprogress', 'claim'] as const) {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', kind === 'claim' ? keys.claimPattern : keys.inprogressPattern, 'COUNT', 1000);
      cursor = next;
      for (const key of batch) {
        const p = kind === 'claim' ? parseClaimKey(keys, key) : parseInprogressKey(keys, key);
        if (!p || owned.has(p.node) || (queue && p.queue !== queue)) continue;
        if (!seen.has(key)) found.push({ key, kind, ...p });
        seen.add(key);
      }
    } while (cursor !== '0');
  }
  if (found.length === 0) return [];
  const pipe = redis.pipeline();
  for (const f of found) pipe.llen(f.key).exists(keys.node(f.node));
  const res = (await pipe.exec()) ?? [];
  return found
    .map((f, i) => ({ ...f, jobs: Number(res[i * 2]?.[1] ?? 0), alive: res[i * 2 + 1]?.[1] === 1 }))
    .filter((f) => f.jobs > 0 && !f.alive)
    .map(({ alive: _alive, ...f }) => f)
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** Hands each orphan list back to the front of its queue, batch by batch, until it is empty or refused. */
export async function requeueOrphans(scripts: Scripts, lists: OrphanList[], batch: number): Promise<OrphanRequeue[]> {
  const out: OrphanRequeue[] = [];
  for (const l of lists) {
    let requeued = 0;
    let status: OrphanRequeue['status'] = 'moved';
    for (;;) {
      const r = await scripts.requeueOrphan(l.queue, l.node, batch, l.kind);
      requeued += r.moved;
      if (r.status !== 'moved') {
        status = r.status;
        break;
      }
      if (r.remaining === 0) break;
    }
    out.push({ ...l, status, requeued });
  }
  return out;
}
