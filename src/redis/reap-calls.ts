// The reaper's script calls (reap-3, reap-scan-1, node-sweep-3, requeue-orphan-2), as
// functions of a Scripts connection; Scripts (src/redis/scripts.ts) exposes them as methods.
import { REAPER } from '../config/defaults.js';
import type { Scripts } from './scripts.js';
import type { ReapOptions, ReapResult, ReapScanResult } from './script-types.js';
import { ORPHAN_STATUS, REAP_STATUS, WrongTypeError, statusOf } from './statuses.js';

export async function reap(s: Scripts, o: ReapOptions): Promise<ReapResult> {
  const k = s.keys;
  const reply = (await s.call(
    'reap',
    false,
    k.nodes,
    k.reaping,
    k.dead,
    k.prefix,
    o.node,
    o.batch,
    o.maxRecoveries,
    o.recoveryWindowMs,
    o.force ? '1' : '0',
    o.by,
    o.historyLength,
    Math.round(o.deadTimeoutS),
    o.deadMaxJobs,
    o.countRecoveries ? '1' : '0',
    o.isolateFrom,
    JSON.stringify(o.startedIds ?? []),
    REAPER.maxBytesPerCall,
  )) as unknown[];
  const status = statusOf('reap', REAP_STATUS, reply[0]);
  const [moved, buried, remaining, unstarted] = reply.slice(1, 5).map(Number);
  return { status, moved, buried, remaining, unstarted, ...(status === 'wrongtype' ? { wrongKey: String(reply[5]) } : {}) };
}

/** Reaps a node to the end, batch by batch. Stops early if the node turns out to be alive or a key has the wrong type. */
export async function reapAll(s: Scripts, o: ReapOptions): Promise<ReapResult> {
  const total: ReapResult = { status: 'reaped', moved: 0, buried: 0, remaining: 0, unstarted: 0 };
  for (;;) {
    const r = await reap(s, o);
    total.moved += r.moved;
    total.buried += r.buried;
    total.unstarted += r.unstarted;
    total.status = r.status;
    total.remaining = r.remaining;
    if (r.wrongKey !== undefined) total.wrongKey = r.wrongKey;
    if (r.status === 'alive' || r.status === 'wrongtype' || r.remaining === 0) return total;
  }
}

/** Checks up to `max` nodes due on the reaper's schedule (lua/reap-scan-1.lua). */
export async function reapScan(s: Scripts, max: number, retryMs: number): Promise<ReapScanResult> {
  const reply = (await s.call('reapScan', false, s.keys.heartbeats, s.keys.prefix, max, retryMs)) as unknown[];
  return { more: Number(reply[0]) === 1, checked: Number(reply[1]), dead: reply.slice(2).map(String) };
}

/** One page of putting every registered node on the reaper's schedule (lua/node-sweep-3.lua). */
export async function nodeSweep(s: Scripts, cursor: string, count: number): Promise<{ cursor: string; seen: number; added: number }> {
  const k = s.keys;
  const reply = (await s.call('nodeSweep', false, k.nodes, k.reaping, k.heartbeats, cursor, count)) as unknown[];
  return { cursor: String(reply[0]), seen: Number(reply[1]), added: Number(reply[2]) };
}

/** One batch of handing an unowned in-progress list back to the front of its queue (lua/requeue-orphan-2.lua). */
export async function requeueOrphan(
  s: Scripts,
  queue: string,
  node: string,
  batch: number,
  kind: 'inprogress' | 'claim',
): Promise<{ status: 'moved' | 'owned' | 'alive'; moved: number; remaining: number }> {
  const k = s.keys;
  const list = kind === 'claim' ? k.nodeClaim(node, queue) : k.inprogress(queue, node);
  const reply = (await s.call('requeueOrphan', false, list, k.queue(queue), k.prefix, node, batch)) as unknown[];
  const status = statusOf('requeueOrphan', ORPHAN_STATUS, reply[0]);
  if (status === 'wrongtype') throw new WrongTypeError('requeueOrphan', String(reply[3]));
  return { status, moved: Number(reply[1]), remaining: Number(reply[2]) };
}
