// Paged and searched reads of `retry`, `schedule` and `dead` for the web dashboard, and finding
// entries again by the key a page gave them (score + jid) for an action. A page is one
// ZRANGE/ZREVRANGE of its own range; a search reads the set in display order, newest dead first,
// up to a bound, and matches a substring of the class, jid or args (case-insensitive) on the
// member's bytes before decoding it.
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

/** The key a page gives an entry for actions: its score and jid ("1700000000.5|<jid>"). */
export function entryKey(e: Entry): string {
  return `${e.score}|${entryJid(e)}`;
}

/**
 * The entries named by keys from entryKey (ZRANGEBYSCORE of the exact score, then the jid);
 * keys that no longer match anything are returned in `missing`.
 */
export async function entriesByKeys(ctx: AdminContext, set: SetName, keys: string[]): Promise<{ entries: Entry[]; missing: string[] }> {
  const entries: Entry[] = [];
  const missing: string[] = [];
  const wanted = [...new Set(keys)].slice(0, 1000);
  const found = await Promise.all(
    wanted.map(async (k) => {
      const bar = k.indexOf('|');
      const score = Number(k.slice(0, bar));
      const jid = k.slice(bar + 1);
      if (bar <= 0 || !Number.isFinite(score) || !jid) return undefined;
      const flat = await ctx.redis.zrangebyscoreBuffer(ctx.keys[set], score, score, 'LIMIT', 0, 100);
      return flat.map((m) => toEntry(set, m, score)).filter((e) => entryJid(e) === jid);
    }),
  );
  found.forEach((list, i) => {
    if (list?.length) entries.push(...list);
    else missing.push(wanted[i]);
  });
  return { entries, missing };
}
