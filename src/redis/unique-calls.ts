// The unique-job scripts (docs/unique-jobs.md) as functions of a Scripts connection; Scripts
// (src/redis/scripts.ts) exposes them. enqueue-unique takes the lock and pushes in one call;
// unique-start releases a lock as its job starts; unique-drop deletes a job by hand and releases
// its lock; unique-sweep releases locks whose owner exists nowhere; unique-why reads one lock.
import { UNIQUE } from '../config/defaults.js';
import type { Scripts } from './scripts.js';
import { throwIfWrongType } from './statuses.js';

export interface UniqueEnqueue {
  key: string;
  until: 'started' | 'done' | 'ttl';
  ttlMs?: number;
  jid: string;
  payload: string;
  queue: string;
  /** Run-at (epoch seconds) for schedule; undefined = the queue now. */
  at?: number;
}

/** enqueued: this job was pushed; else `holder` is the jid of the job that holds the lock. */
export interface UniqueEnqueueResult {
  enqueued: boolean;
  holder: string;
}

export async function enqueueUnique(s: Scripts, e: UniqueEnqueue): Promise<UniqueEnqueueResult> {
  const k = s.keys;
  const reply = await s.call(
    'enqueueUnique',
    false,
    k.queues,
    k.queue(e.queue),
    k.schedule,
    k.prefix,
    e.key,
    e.jid,
    e.payload,
    e.queue,
    e.at === undefined ? '' : e.at,
    e.until,
    e.until === 'ttl' ? (e.ttlMs ?? 0) : 0,
  );
  throwIfWrongType('enqueueUnique', reply);
  const [status, holder] = reply as [number, string];
  return { enqueued: Number(status) === 1, holder: String(holder) };
}

/** 'released', 'not_owner' (the lock names another jid or is gone), 'not_held' (this node no longer holds the job). */
export async function uniqueStart(s: Scripts, queue: string, node: string, raw: Buffer, key: string, jid: string): Promise<'released' | 'not_owner' | 'not_held'> {
  const r = Number(await s.call('uniqueStart', false, s.keys.inprogress(queue, node), s.keys.prefix, raw, key, jid));
  return r === 1 ? 'released' : r === 0 ? 'not_owner' : 'not_held';
}

/** Removes `member` from a queue (list) or a sorted set and releases the lock it carries. */
export async function uniqueDrop(s: Scripts, container: string, member: Buffer | string): Promise<{ removed: number; released: boolean }> {
  const reply = await s.call('uniqueDrop', false, container, s.keys.prefix, member);
  throwIfWrongType('uniqueDrop', reply);
  const [removed, released] = (reply as unknown[]).map(Number);
  return { removed, released: released === 1 };
}

export interface SweepResult {
  looked: number;
  released: { key: string; jid: string }[];
  alive: number;
  unknown: number;
  cleaned: number;
}

export async function uniqueSweep(s: Scripts, graceMs: number, by: string): Promise<SweepResult> {
  const k = s.keys;
  const reply = await s.call(
    'uniqueSweep',
    false,
    k.uniques,
    k.uniquesInfo,
    k.prefix,
    graceMs,
    UNIQUE.sweepLocks,
    UNIQUE.sweepElements,
    UNIQUE.maxNodes,
    UNIQUE.historyKept,
    by,
    UNIQUE.sweepBytes,
  );
  throwIfWrongType('uniqueSweep', reply);
  const r = reply as unknown[];
  const released: { key: string; jid: string }[] = [];
  for (let i = 5; i + 1 < r.length; i += 2) released.push({ key: String(r[i]), jid: String(r[i + 1]) });
  return { looked: Number(r[0]), released, alive: Number(r[2]), unknown: Number(r[3]), cleaned: Number(r[4]) };
}

export type UniqueWhere = 'queue' | 'parked' | 'inprogress' | 'claim' | 'retry' | 'schedule' | 'dead' | 'unknown' | 'nowhere';

export interface UniqueWhy {
  key: string;
  /** The lock's value (the owner's jid); null: no lock. */
  holder: string | null;
  info: Record<string, unknown> | null;
  where: UniqueWhere;
  node: string | null;
  /** Ms until a ttl lock expires; null: no expiry (or no lock). */
  ttlMs: number | null;
  searched: number;
}

export async function uniqueWhy(s: Scripts, key: string): Promise<UniqueWhy> {
  const r = (await s.call('uniqueWhy', false, s.keys.uniquesInfo, s.keys.prefix, key, UNIQUE.whyElements, UNIQUE.maxNodes, UNIQUE.whyBytes)) as unknown[];
  let info: Record<string, unknown> | null = null;
  if (r[1]) {
    try {
      info = JSON.parse(String(r[1])) as Record<string, unknown>;
    } catch {
      info = null;
    }
  }
  const ttl = Number(r[4]);
  return {
    key,
    holder: r[0] ? String(r[0]) : null,
    info,
    where: String(r[2]) as UniqueWhere,
    node: r[3] ? String(r[3]) : null,
    ttlMs: ttl >= 0 ? ttl : null,
    searched: Number(r[5]),
  };
}
