// Paged and searched reads of `retry`, `schedule` and `dead` for the web dashboard, and finding
// entries again by the key a page gave them (score, jid, member digest) for an action. A page is one
// ZRANGE/ZREVRANGE of its own range; a search reads the set in display order, newest dead first,
// up to a bound, and matches a substring of the class, jid or args (case-insensitive) on the
// member's bytes before decoding it.
import { createHash } from 'node:crypto';
import type { AdminContext } from './admin-context.js';
import { entryJid, scanEntries, toEntry, toRow, type Entry, type SetName } from './entries.js';

export interface SetPage {
  set: SetName;
  total: number;
  offset: number;
  entries: Entry[];
}

/** Members searched at most, newest (dead) or soonest (retry, schedule) first. */
export const SEARCH_BOUND = 10_000;

export async function setPage(ctx: AdminContext, set: SetName, offset: number, limit: number): Promise<SetPage> {
  const key = ctx.keys[set];
  const stop = offset + limit - 1;
  const [total, flat] = await Promise.all([
    ctx.redis.zcard(key),
    set === 'dead' ? ctx.redis.zrevrangeBuffer(key, offset, stop, 'WITHSCORES') : ctx.redis.zrangeBuffer(key, offset, stop, 'WITHSCORES'),
  ]);
  const entries: Entry[] = [];
  for (let i = 0; i < flat.length; i += 2) entries.push(toEntry(set, flat[i], Number(flat[i + 1].toString())));
  return { set, total, offset, entries };
}

export interface SetSearch {
  set: SetName;
  query: string;
  total: number;
  /** Members looked at (at most `bound`). */
  scanned: number;
  /** True when the set holds more than was scanned. */
  truncated: boolean;
  entries: Entry[];
}

/** Entries whose class, jid or args contain `query` (case-insensitive), up to `limit` found and `bound` read. */
export async function searchSet(ctx: AdminContext, set: SetName, query: string, limit: number, bound = SEARCH_BOUND): Promise<SetSearch> {
  const total = await ctx.redis.zcard(ctx.keys[set]);
  const needle = query.toLowerCase();
  const entries: Entry[] = [];
  let scanned = 0;
  for await (const e of scanEntries(ctx, set)) {
    scanned++;
    // Cheap first test on the bytes; then the fields themselves (a key name or error text alone is no match).
    if (e.member.toString('utf8').toLowerCase().includes(needle) && fieldsMatch(e, needle)) entries.push(e);
    if (entries.length >= limit || scanned >= bound) break;
  }
  return { set, query, total, scanned, truncated: scanned < total && entries.length < limit, entries };
}

function fieldsMatch(e: Entry, needle: string): boolean {
  const r = toRow(e);
  return [r.jid, r.class ?? '', r.args].some((s) => s.toLowerCase().includes(needle));
}

/** Members of one score read at most to find an entry by its key (a page of them per command). */
export const SAME_SCORE_BOUND = 10_000;
const SAME_SCORE_PAGE = 1000;

/** The first 16 hex digits of the member's SHA-1: tells apart entries that share a score and a jid. */
export function memberDigest(member: Buffer): string {
  return createHash('sha1').update(member).digest('hex').slice(0, 16);
}

/**
 * The key a page gives an entry for actions: its score, jid and member digest
 * ("1700000000.5|<jid>|m:<16 hex>"). Several entries can share a score (jobs scheduled for the
 * same second) and even a score and a jid (copies of one job): the digest names the one shown.
 */
export function entryKey(e: Entry): string {
  return `${e.score}|${entryJid(e)}|m:${memberDigest(e.member)}`;
}

/** A key parsed; `digest` is absent in a key of the older form "score|jid" (every entry of that score and jid). */
export function parseEntryKey(k: string): { score: number; jid: string; digest?: string } | undefined {
  const bar = k.indexOf('|');
  if (bar <= 0) return undefined;
  const score = Number(k.slice(0, bar));
  let jid = k.slice(bar + 1);
  const tail = /\|m:([0-9a-f]{16})$/.exec(jid);
  const digest = tail?.[1];
  if (tail) jid = jid.slice(0, tail.index);
  if (!Number.isFinite(score) || !jid) return undefined;
  return { score, jid, digest };
}

/**
 * The entries named by keys from entryKey (ZRANGEBYSCORE of the exact score, paged up to
 * SAME_SCORE_BOUND members, then the jid and the digest); keys that no longer match anything are
 * returned in `missing`.
 */
export async function entriesByKeys(ctx: AdminContext, set: SetName, keys: string[]): Promise<{ entries: Entry[]; missing: string[] }> {
  const entries: Entry[] = [];
  const missing: string[] = [];
  const wanted = [...new Set(keys)].slice(0, 1000);
  const found = await Promise.all(
    wanted.map(async (k) => {
      const key = parseEntryKey(k);
      if (!key) return undefined;
      const out: Entry[] = [];
      for (let off = 0; off < SAME_SCORE_BOUND; off += SAME_SCORE_PAGE) {
        const flat = await ctx.redis.zrangebyscoreBuffer(ctx.keys[set], key.score, key.score, 'LIMIT', off, SAME_SCORE_PAGE);
        for (const m of flat) {
          const e = toEntry(set, m, key.score);
          if (entryJid(e) === key.jid && (key.digest === undefined || memberDigest(m) === key.digest)) out.push(e);
        }
        if (flat.length < SAME_SCORE_PAGE || (key.digest !== undefined && out.length > 0)) break;
      }
      return out;
    }),
  );
  found.forEach((list, i) => {
    if (list?.length) entries.push(...list);
    else missing.push(wanted[i]);
  });
  return { entries, missing };
}
