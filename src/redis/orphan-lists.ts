// Lists of jobs that no registered node owns: in-progress lists (SCAN inprogress:*) whose node is
// neither registered (verk_nodes, verk:reaping) nor alive (its heartbeat key), and claim lists
// (SCAN verk:node:*:claim:*) of such nodes; and handing them back to the front of their queues,
// batch by batch (lua/requeue-orphan-2.lua re-checks ownership in the script, atomically per
// batch). `verk stuck` reads every page (src/api/orphans.ts); the supervisor's pass after a
// failover reads a bounded number of pages (src/runner/failover-orphans.ts).
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import type { Scripts } from './scripts.js';
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

export interface OrphanSearch {
  /** Only this queue's lists. */
  queue?: string;
  /** SCAN calls (COUNT 1000) per kind of list at most; unbounded when absent. */
  maxPages?: number;
}

/** The orphaned lists, sorted by key; `complete` is false when `maxPages` cut a SCAN short. */
export async function findOrphanLists(redis: Redis, keys: Keys, o: OrphanSearch = {}): Promise<{ lists: OrphanList[]; complete: boolean }> {
  const { ids } = await registeredNodes(redis, keys);
  const owned = new Set(ids);
  const found: { key: string; kind: OrphanList['kind']; queue: string; node: string }[] = [];
  const seen = new Set<string>();
  let complete = true;
  for (const kind of ['inprogress', 'claim'] as const) {
    let cursor = '0';
    let pages = 0;
    do {
      if (o.maxPages !== undefined && pages++ >= o.maxPages) {
        complete = false;
        break;
      }
      const [next, batch] = await redis.scan(cursor, 'MATCH', kind === 'claim' ? keys.claimPattern : keys.inprogressPattern, 'COUNT', 1000);
      cursor = next;
      for (const key of batch) {
        const p = kind === 'claim' ? parseClaimKey(keys, key) : parseInprogressKey(keys, key);
        if (!p || owned.has(p.node) || (o.queue && p.queue !== o.queue)) continue;
        if (!seen.has(key)) found.push({ key, kind, ...p });
        seen.add(key);
      }
    } while (cursor !== '0');
  }
  if (found.length === 0) return { lists: [], complete };
  const pipe = redis.pipeline();
  for (const f of found) pipe.llen(f.key).exists(keys.node(f.node));
  const res = (await pipe.exec()) ?? [];
  const lists = found
    .map((f, i) => ({ ...f, jobs: Number(res[i * 2]?.[1] ?? 0), alive: res[i * 2 + 1]?.[1] === 1 }))
    .filter((f) => f.jobs > 0 && !f.alive)
    .map(({ alive: _alive, ...f }) => f)
    .sort((a, b) => a.key.localeCompare(b.key));
  return { lists, complete };
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
