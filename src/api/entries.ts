// Reading the sorted sets `retry`, `dead` and `schedule` for admin commands: pages through a set
// (retry/schedule soonest first, dead newest first), decodes each member tolerantly (Sidekiq and
// Elixir verk shapes; a malformed member, invalid UTF-8 included, is kept as its bytes) and
// selects by jid, queue, class, with a limit. Members are read and returned as the exact bytes
// stored (Buffers): requeue and delete name the member by them.
import { decodeJob, toSeconds, type Job } from '../job/codec.js';
import { rawMember } from '../job/raw-json.js';
import { payloadIdentity } from '../job/identity.js';
import { ERROR_CLASS } from '../job/error-classes.js';
import { normalizeClassName } from './names.js';
import type { AdminContext } from './admin-context.js';

export type SetName = 'retry' | 'dead' | 'schedule';
export const SET_NAMES: readonly SetName[] = ['retry', 'dead', 'schedule'];

export interface Entry {
  set: SetName;
  /** The member's exact bytes. */
  member: Buffer;
  score: number;
  job?: Job;
  /** Why the member could not be decoded. */
  malformed?: string;
}

/** One entry as `list --json` shows it (times are float epoch seconds, null when absent). */
export interface EntryRow {
  jid: string;
  class: string | null;
  queue: string | null;
  /** The exact JSON text of the arguments (verk's string-encoded args: the inner text; a malformed member: its text). */
  args: string;
  /** The sorted-set score: next retry (retry), run time (schedule), time of death (dead). */
  at: number;
  error_class: string | null;
  error_message: string | null;
  retry_count: number | null;
  failed_at: number | null;
  retried_at: number | null;
  enqueued_at: number | null;
  created_at: number | null;
  malformed: boolean;
}

export interface Selector {
  jids?: string[];
  queue?: string;
  className?: string;
  /** Maximum entries returned (0 or undefined = all). */
  limit?: number;
}

const PAGE = 500;

/**
 * Every entry of a set in display order, page by page. Each page starts right after the last entry
 * read (lua/set-page-1.lua), not at a rank: while the scheduler promotes due entries or the dead
 * set is trimmed, an entry that stays in the set is never skipped.
 */
export async function* scanEntries(ctx: AdminContext, set: SetName): AsyncGenerator<Entry> {
  const key = ctx.keys[set];
  const order = set === 'dead' ? 'desc' : 'asc';
  let after: { score: string; member: Buffer } | undefined;
  for (;;) {
    const page = await ctx.scripts.setPage(key, order, PAGE, after);
    for (const [member, score] of page) yield toEntry(set, member, Number(score));
    if (page.length < PAGE) return;
    const [member, score] = page[page.length - 1];
    after = { score, member };
  }
}

export function toEntry(set: SetName, member: Buffer, score: number): Entry {
  const d = decodeJob(member);
  return d.ok ? { set, member, score, job: d.job } : { set, member, score, malformed: d.error };
}

export function matches(e: Entry, sel: Selector): boolean {
  if (sel.jids?.length && !sel.jids.includes(entryJid(e))) return false;
  if (sel.queue !== undefined && e.job?.queue !== sel.queue) return false;
  if (sel.className !== undefined && (!e.job || normalizeClassName(e.job.class) !== normalizeClassName(sel.className))) return false;
  return true;
}

/** The entries matching `sel` (up to its limit) and how many entries the set holds. */
export async function selectEntries(ctx: AdminContext, set: SetName, sel: Selector): Promise<{ entries: Entry[]; total: number }> {
  const total = await ctx.redis.zcard(ctx.keys[set]);
  const entries: Entry[] = [];
  for await (const e of scanEntries(ctx, set)) {
    if (!matches(e, sel)) continue;
    entries.push(e);
    if (sel.limit && entries.length >= sel.limit) break;
  }
  return { entries, total };
}

/** The job's jid; a malformed member gets its identity (sha1 of its bytes) so it can be selected. */
export function entryJid(e: Entry): string {
  return e.job?.jid ?? payloadIdentity(e.member);
}

export function toRow(e: Entry): EntryRow {
  const d = e.job?.data ?? {};
  return {
    jid: entryJid(e),
    class: e.job?.class ?? null,
    queue: e.job?.queue ?? null,
    args: e.job ? argsText(e.job) : e.member.toString('utf8'),
    at: e.score,
    error_class: str(d.error_class) ?? (e.malformed ? ERROR_CLASS.MalformedPayload : null),
    error_message: str(d.error_message) ?? e.malformed ?? null,
    retry_count: typeof d.retry_count === 'number' ? d.retry_count : null,
    failed_at: toSeconds(d.failed_at) ?? null,
    retried_at: toSeconds(d.retried_at) ?? null,
    enqueued_at: toSeconds(d.enqueued_at) ?? null,
    created_at: toSeconds(d.created_at) ?? null,
    malformed: Boolean(e.malformed),
  };
}

function argsText(job: Job): string {
  if (typeof job.data.args === 'string') return job.data.args;
  return rawMember(job.raw, 'args') ?? '[]';
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
