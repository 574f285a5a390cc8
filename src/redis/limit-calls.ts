// The script calls of queues with a cluster-wide limit (docs/limits.md): fetch-limited,
// claim-limited (behind the idle wait), ack-limited, handback-limited, fail-8's release tail and
// the audit. Scripts (src/redis/scripts.ts) sends these instead of fetch/claim/ack/handback for
// a queue named in its limits, and today's scripts, byte for byte, for every other queue.
import { HANDBACK, LIMITS, SCRIPT_BOUNDS } from '../config/defaults.js';
import type { AckRef, AckResult, ClaimResult, FetchResult, UniqueRef } from './script-types.js';
import { ackHead, ackJobArgs, ackResult, blockThenClaim, chunksOf, lockTail } from './script-helpers.js';
import type { Scripts } from './scripts.js';
import { FETCH_STATUS, statusOf, throwIfWrongType } from './statuses.js';

/** A queue's limit as the scripts take it (config/limits.ts LimitEntry has this shape). */
export interface LimitSpec {
  queue: string;
  path: readonly (string | number)[];
  concurrency: number;
  rate: number;
  rateWindow: number;
}

/** The limit as lua/include/limit-key.lua's limit_spec decodes it. */
export function specText(l: LimitSpec): string {
  return JSON.stringify({
    p: l.path,
    c: l.concurrency,
    r: l.rate,
    w: l.rateWindow,
    m: LIMITS.missingKey,
    a: LIMITS.queueKey,
    x: LIMITS.maxKeyBytes,
    P: LIMITS.parkPerCall,
    R: LIMITS.readyPerCall,
  });
}

/** What a take tells its caller besides the jobs. */
export interface Outlook {
  /** Jobs are left to sort (the call stopped at its park bound): fetch again at once. */
  more: boolean;
  /** Ms until the next rate-blocked key reopens (-1: none waits on its window). */
  waitMs: number;
}

function outlook(more: unknown, wait: unknown): Outlook {
  return { more: Number(more) === 1, waitMs: Number(wait) };
}

export async function fetchLimited(s: Scripts, spec: string, queue: string, node: string, max: number, firstFetch: boolean): Promise<FetchResult & Outlook> {
  const k = s.keys;
  const n = Math.min(max, SCRIPT_BOUNDS.fetchMaxJobs);
  const r = (await s.call(
    'fetchLimited',
    true,
    k.queue(queue),
    k.inprogress(queue, node),
    k.node(node),
    k.nodeQueues(node),
    k.paused,
    n,
    queue,
    firstFetch ? '1' : '0',
    SCRIPT_BOUNDS.fetchMaxBytes,
    k.prefix,
    spec,
  )) as unknown[];
  const status = statusOf('fetchLimited', FETCH_STATUS, r[0]);
  const o = outlook(r[1], r[2]);
  return status === 'ok' ? { status, jobs: r.slice(3) as Buffer[], ...o } : { status, jobs: [], ...o };
}

/**
 * The idle wait of a limited queue: BLMOVE as for any queue, but at most until the next
 * rate-blocked key reopens and at most LIMITS.idleWaitMs (a key a reaper freed is served without
 * a push to wake anyone), then claim-limited sorts what was claimed and takes up to `want` jobs.
 * The jobs returned are every job taken (a claimed job may have been parked instead).
 */
export async function waitAndClaimLimited(
  s: Scripts,
  spec: string,
  queue: string,
  node: string,
  want: number,
  timeoutS: number,
  waitMs: number,
): Promise<ClaimResult & Outlook> {
  const k = s.keys;
  let bound = Math.min(timeoutS * 1000, LIMITS.idleWaitMs);
  if (waitMs >= 0) bound = Math.min(bound, Math.max(10, waitMs));
  const args = [
    k.inprogress(queue, node),
    k.node(node),
    k.queue(queue),
    k.paused,
    Math.min(want, SCRIPT_BOUNDS.fetchMaxJobs),
    queue,
    SCRIPT_BOUNDS.fetchMaxBytes,
    k.prefix,
    spec,
  ];
  const { taken, reply } = await blockThenClaim(s.redis, k, queue, node, bound / 1000, 'claimLimited', args);
  const r = reply as unknown[];
  const status = statusOf('claimLimited', FETCH_STATUS, r[0]);
  const consistent = Number(r[1]) === (taken === null ? 0 : 1);
  return { status, jobs: status === 'ok' ? (r.slice(4) as Buffer[]) : [], consistent, ...outlook(r[2], r[3]) };
}

/** ack-6's call with each job's identity (its slot record's name) after its ref. */
export async function ackLimited(
  s: Scripts,
  spec: string,
  queue: string,
  node: string,
  refs: AckRef[],
  ids: string[],
  refill: number,
  locks?: (UniqueRef | undefined)[],
): Promise<AckResult> {
  const { args, tomb } = ackJobArgs(refs, (i) => ids[i]);
  const res = (await s.call(
    'ackLimited',
    true,
    ...ackHead(s.keys, queue, node, refill, tomb),
    s.keys.prefix,
    spec,
    ...args,
    ...lockTail(s.keys.prefix, locks),
  )) as unknown[];
  throwIfWrongType('ackLimited', res);
  return ackResult('ackLimited', res);
}

/** handback for a limited queue: each job moved releases its slot (found by its identity, in Lua). */
export async function handbackLimited(s: Scripts, queue: string, node: string, raws: Buffer[], from: 'inprogress' | 'claim'): Promise<number> {
  const k = s.keys;
  const list = from === 'claim' ? k.nodeClaim(node, queue) : k.inprogress(queue, node);
  let moved = 0;
  for (const chunk of chunksOf(raws, HANDBACK.maxJobs, HANDBACK.maxBytes)) {
    const reply = await s.call('handbackLimited', false, list, k.queue(queue), k.node(node), k.prefix, queue, from === 'claim' ? '0' : '1', ...chunk);
    throwIfWrongType('handbackLimited', reply);
    moved += Number(reply);
  }
  return moved;
}

/** One fix the audit made: a held count recounted from the slot records, or a key made due. */
export interface AuditFix {
  queue: string;
  key: string;
  what: 'held' | 'ready';
  was?: number;
  now?: number;
}

export type AuditResult = { status: 'ok'; fixes: AuditFix[] } | { status: 'too_big'; records: number };

export async function limitAudit(s: Scripts, limits: readonly LimitSpec[]): Promise<AuditResult> {
  const k = s.keys;
  const args = limits.flatMap((l) => [l.queue, l.concurrency]);
  const reply = (await s.call('limitAudit', false, k.nodes, k.reaping, k.prefix, LIMITS.auditMaxRecords, ...args)) as unknown[];
  if (String(reply[0]) === 'too_big') return { status: 'too_big', records: Number(reply[1]) };
  const fixes = reply.slice(1).map((x): AuditFix => {
    const [queue, key, what, was, now] = String(x).split('\t');
    return what === 'held' ? { queue, key, what, was: Number(was), now: Number(now) } : { queue, key, what: 'ready' };
  });
  return { status: 'ok', fixes };
}
