// One queue's jobs for `verk queue list|delete|clear`. Members are read as Buffers and removed
// with LREM of those exact bytes (a payload is never re-encoded, so LREM matches it even when
// it is not valid UTF-8). A queue is consumed from its right end (LPUSH in, fetch from the
// right), so position 0 is the next job to be fetched. Reads are bounded by SCAN_BOUND. A job
// that carries a unique lock is deleted by lua/unique-drop-1.lua, which releases the lock too.
import { createHash } from 'node:crypto';
import { toSeconds } from '../job/codec.js';
import { rawMember } from '../job/raw-json.js';
import type { AdminContext } from './admin-context.js';
import { SCAN_BOUND } from './find-job.js';

export interface QueueEntry {
  /** 0 = the next job to be fetched. */
  position: number;
  /** The payload's jid; a malformed payload gets the sha1 of its bytes (first 24 hex). */
  jid: string;
  class: string | null;
  /** The exact JSON text of the arguments (the whole payload when malformed). */
  args: string;
  enqueued_at: number | null;
  created_at: number | null;
  malformed: boolean;
}

export interface QueueChange {
  queue: string;
  action: 'delete' | 'clear';
  dry_run: boolean;
  /** Entries selected (for clear: the queue's size). */
  matched: number;
  /** Entries removed (0 in a dry run). */
  done: number;
  jids: string[];
}

const PAGE = 1000;

/** The first `limit` jobs in fetch order (0 = up to SCAN_BOUND) and the queue's size. */
export async function listQueueEntries(ctx: AdminContext, queue: string, limit: number): Promise<{ size: number; entries: QueueEntry[] }> {
  const key = ctx.keys.queue(queue);
  const size = await ctx.redis.llen(key);
  const want = Math.min(limit || SCAN_BOUND, SCAN_BOUND, size);
  const entries: QueueEntry[] = [];
  for (let pos = 0; pos < want; pos += PAGE) {
    const n = Math.min(PAGE, want - pos);
    // Fetch order is right to left: positions pos..pos+n-1 are indexes -(pos+n)..-(pos+1).
    const page = (await ctx.redis.lrangeBuffer(key, -(pos + n), -(pos + 1))).reverse();
    for (const [i, buf] of page.entries()) entries.push(describe(buf, pos + i));
    if (page.length < n) break;
  }
  return { size, entries };
}

/** Removes the jobs with these jids (exact bytes, every copy) from the first SCAN_BOUND entries. */
export async function deleteQueueJobs(ctx: AdminContext, queue: string, jids: string[], dryRun: boolean): Promise<QueueChange & { missing: string[] }> {
  const key = ctx.keys.queue(queue);
  const wanted = new Set(jids);
  const members = new Map<string, { buf: Buffer; jid: string; locked: boolean }>();
  for (let start = 0; start < SCAN_BOUND; start += PAGE) {
    const page = await ctx.redis.lrangeBuffer(key, start, Math.min(start + PAGE, SCAN_BOUND) - 1);
    for (const buf of page) {
      const jid = jidOf(buf);
      if (wanted.has(jid)) members.set(buf.toString('base64'), { buf, jid, locked: parse(buf)?.verk_unique !== undefined });
    }
    if (page.length < PAGE) break;
  }
  const found = [...members.values()];
  const hit = new Set(found.map((m) => m.jid));
  const named = [...new Set(jids)];
  const res = {
    queue,
    action: 'delete' as const,
    dry_run: dryRun,
    matched: found.length,
    done: 0,
    jids: named.filter((j) => hit.has(j)),
    missing: named.filter((j) => !hit.has(j)),
  };
  if (dryRun || found.length === 0) return res;
  const removed = await Promise.all(found.map(async (m) => (m.locked ? (await ctx.scripts.uniqueDrop(key, m.buf)).removed : ctx.redis.lrem(key, 0, m.buf))));
  res.done = removed.reduce((a, b) => a + b, 0);
  return res;
}

/** Empties the queue as Sidekiq's Queue#clear does: UNLINK queue:<q> and SREM it from `queues`. */
export async function clearQueue(ctx: AdminContext, queue: string, dryRun: boolean): Promise<QueueChange> {
  const key = ctx.keys.queue(queue);
  const res: QueueChange = { queue, action: 'clear', dry_run: dryRun, matched: await ctx.redis.llen(key), done: 0, jids: [] };
  if (dryRun) return res;
  const [[, n]] = (await ctx.redis.multi().llen(key).unlink(key).srem(ctx.keys.queues, queue).exec()) as [[Error | null, number]];
  res.done = n;
  return res;
}

function parse(buf: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(buf.toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function jidOf(buf: Buffer): string {
  const d = parse(buf);
  return typeof d?.jid === 'string' ? d.jid : createHash('sha1').update(buf).digest('hex').slice(0, 24);
}

function describe(buf: Buffer, position: number): QueueEntry {
  const d = parse(buf);
  const raw = buf.toString('utf8');
  if (!d || typeof d.jid !== 'string') {
    return { position, jid: jidOf(buf), class: typeof d?.class === 'string' ? d.class : null, args: raw, enqueued_at: null, created_at: null, malformed: true };
  }
  return {
    position,
    jid: d.jid,
    class: typeof d.class === 'string' ? d.class : null,
    args: typeof d.args === 'string' ? d.args : (rawMember(raw, 'args') ?? '[]'),
    enqueued_at: toSeconds(d.enqueued_at) ?? null,
    created_at: toSeconds(d.created_at) ?? null,
    malformed: false,
  };
}

/** One queue member as the listings show it (for the web dashboard's paged view). */
export function describeQueueEntry(buf: Buffer, position: number): QueueEntry {
  return describe(buf, position);
}
