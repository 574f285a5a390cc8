// Finding one job by jid wherever it is, for `verk show`: every queue list, every in-progress
// list (which node holds it), and the schedule, retry and dead sets. Bounded: each list is read
// in pages up to SCAN_BOUND entries and each sorted set is ZSCANned (MATCH on the jid, as
// Sidekiq's SortedSet#find_job does) over at most SCAN_BOUND members; keys cut short are named
// in `truncated`. Payloads are returned exactly as stored, with the failure fields decoded
// (error_backtrace: a JSON array, Sidekiq's Base64(zlib(JSON)), or Elixir verk's plain string).
import { inflateSync } from 'node:zlib';
import { attemptsOf, toSeconds, type Attempt } from '../job/codec.js';
import { rawMember } from '../job/raw-json.js';
import { uniqueOf } from '../job/unique.js';
import type { AdminContext } from './admin-context.js';
import { parseInprogressKey } from './node-registry.js';
import { globEscape, queueNames } from './queues.js';

/** Entries read per list, and members scanned per sorted set, at most. */
export const SCAN_BOUND = 100_000;
const PAGE = 1000;

export type Where = 'queue' | 'in_progress' | 'schedule' | 'retry' | 'dead';

export interface JobMatch {
  where: Where;
  /** The Redis key holding it. */
  key: string;
  queue: string | null;
  /** The verk node whose in-progress list holds it (in_progress only). */
  node: string | null;
  /** The sorted-set score (run at / next retry / died at), epoch seconds; null for lists. */
  at: number | null;
  class: string | null;
  /** The exact JSON text of the arguments. */
  args: string | null;
  created_at: number | null;
  enqueued_at: number | null;
  retry: unknown;
  retry_count: number | null;
  failed_at: number | null;
  retried_at: number | null;
  error_class: string | null;
  error_message: string | null;
  error_backtrace: string[] | null;
  /** Its last failed attempts, oldest first (`verk_attempts`, kept by verk; empty for a job that never failed here). */
  attempts: Attempt[];
  /** The payload decoded (integers beyond 2^53 lose digits here; `raw` keeps them). */
  payload: unknown;
  /** The payload exactly as stored. */
  raw: string;
  /** The unique lock the job carries (docs/unique-jobs.md) and who holds it now (null: free). */
  unique: { key: string; until: string; holder: string | null } | null;
}

export interface FindReport {
  jid: string;
  matches: JobMatch[];
  /** Entries (list items and scanned set members) looked at. */
  scanned: number;
  /** Keys not fully scanned because they hold more than SCAN_BOUND entries. */
  truncated: string[];
}

export async function findJob(ctx: AdminContext, jid: string): Promise<FindReport> {
  const report: FindReport = { jid, matches: [], scanned: 0, truncated: [] };
  const queues = await queueNames(ctx);
  for (const q of queues) await scanList(ctx, report, ctx.keys.queue(q), { where: 'queue', queue: q, node: null });
  for (const key of await inprogressKeys(ctx)) {
    const parsed = parseInprogressKey(ctx.keys, key);
    await scanList(ctx, report, key, { where: 'in_progress', queue: parsed?.queue ?? null, node: parsed?.node ?? null });
  }
  for (const set of ['schedule', 'retry', 'dead'] as const) await scanSet(ctx, report, set);
  return lockHolders(ctx, report);
}

type ListPlace = Pick<JobMatch, 'where' | 'queue' | 'node'>;

async function scanList(ctx: AdminContext, r: FindReport, key: string, place: ListPlace): Promise<void> {
  for (let start = 0; start < SCAN_BOUND; start += PAGE) {
    const page = await ctx.redis.lrange(key, start, Math.min(start + PAGE, SCAN_BOUND) - 1);
    r.scanned += page.length;
    for (const raw of page) if (raw.includes(r.jid)) addMatch(r, raw, { ...place, key, at: null });
    if (page.length < PAGE) return;
  }
  if ((await ctx.redis.llen(key)) > SCAN_BOUND) r.truncated.push(key);
}

async function scanSet(ctx: AdminContext, r: FindReport, set: 'schedule' | 'retry' | 'dead'): Promise<void> {
  const key = ctx.keys[set];
  const pattern = `*${globEscape(r.jid)}*`;
  let cursor = '0';
  let steps = 0;
  do {
    const [next, flat] = await ctx.redis.zscan(key, cursor, 'MATCH', pattern, 'COUNT', PAGE);
    cursor = next;
    for (let i = 0; i < flat.length; i += 2) addMatch(r, flat[i], { where: set, queue: null, key, node: null, at: Number(flat[i + 1]) });
    if (++steps * PAGE >= SCAN_BOUND && cursor !== '0') {
      r.truncated.push(key);
      break;
    }
  } while (cursor !== '0');
  r.scanned += Math.min(await ctx.redis.zcard(key), steps * PAGE);
}

async function inprogressKeys(ctx: AdminContext): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await ctx.redis.scan(cursor, 'MATCH', ctx.keys.inprogressPattern, 'COUNT', PAGE);
    cursor = next;
    out.push(...found);
  } while (cursor !== '0' && out.length < SCAN_BOUND);
  return out.sort();
}

function addMatch(r: FindReport, raw: string, at: Pick<JobMatch, 'where' | 'queue' | 'key' | 'node' | 'at'>): void {
  let data: Record<string, unknown>;
  try {
    const v = JSON.parse(raw) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return;
    data = v as Record<string, unknown>;
  } catch {
    return; // a malformed payload has no jid to match (`verk dead list` shows it by its sha1)
  }
  if (data.jid !== r.jid) return;
  const num = (k: string) => toSeconds(data[k]) ?? null;
  const str = (k: string) => (typeof data[k] === 'string' ? (data[k] as string) : null);
  r.matches.push({
    ...at,
    queue: at.queue ?? str('queue') ?? 'default', // a set entry without a queue goes to default
    class: str('class'),
    args: typeof data.args === 'string' ? data.args : (rawMember(raw, 'args') ?? null),
    created_at: num('created_at'),
    enqueued_at: num('enqueued_at'),
    retry: data.retry ?? data.max_retry_count ?? null,
    retry_count: typeof data.retry_count === 'number' ? data.retry_count : null,
    failed_at: num('failed_at'),
    retried_at: num('retried_at'),
    error_class: str('error_class'),
    error_message: str('error_message'),
    error_backtrace: backtrace(data.error_backtrace),
    attempts: attemptsOf(data),
    payload: data,
    raw,
    unique: null,
  });
  const lock = uniqueOf(data);
  if (lock) r.matches[r.matches.length - 1].unique = { key: lock.key, until: lock.until, holder: null };
}

/** Reads who holds the lock of each match that carries one. */
async function lockHolders(ctx: AdminContext, r: FindReport): Promise<FindReport> {
  await Promise.all(
    r.matches.map(async (m) => {
      if (m.unique) m.unique.holder = await ctx.redis.get(ctx.keys.unique(m.unique.key));
    }),
  );
  return r;
}

/** error_backtrace as lines: a JSON array, Sidekiq's Base64(zlib(JSON array)), or a plain string. */
export function backtrace(v: unknown): string[] | null {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v !== 'string' || v === '') return null;
  try {
    const lines = JSON.parse(inflateSync(Buffer.from(v, 'base64')).toString('utf8')) as unknown;
    if (Array.isArray(lines)) return lines.map(String);
  } catch {
    /* not compressed: Elixir verk's formatted stacktrace */
  }
  return v.split('\n');
}

const WHERE_ORDER: Where[] = ['queue', 'in_progress', 'schedule', 'retry', 'dead'];

/**
 * findJob with every list and set read concurrently (the connection pipelines them), for the
 * web dashboard's job page, which must answer within its budget on a large Redis: the same
 * bounds and the same report, matches in findJob's order. The sets are ZSCANned without MATCH
 * and matched here: Redis's glob match of `*<jid>*` costs ~2.5 µs per member (250 ms for
 * 100 000 dead jobs on the test machine), reading them ~1 µs.
 */
export async function findJobConcurrently(ctx: AdminContext, jid: string): Promise<FindReport> {
  const report: FindReport = { jid, matches: [], scanned: 0, truncated: [] };
  const [queues, inprogress] = await Promise.all([queueNames(ctx), inprogressKeys(ctx)]);
  await Promise.all([
    ...queues.map((q) => scanList(ctx, report, ctx.keys.queue(q), { where: 'queue', queue: q, node: null })),
    ...inprogress.map((key) => {
      const parsed = parseInprogressKey(ctx.keys, key);
      return scanList(ctx, report, key, { where: 'in_progress', queue: parsed?.queue ?? null, node: parsed?.node ?? null });
    }),
    ...(['schedule', 'retry', 'dead'] as const).map((set) => readSet(ctx, report, set)),
  ]);
  report.matches.sort((a, b) => WHERE_ORDER.indexOf(a.where) - WHERE_ORDER.indexOf(b.where) || a.key.localeCompare(b.key));
  report.truncated.sort();
  return lockHolders(ctx, report);
}

const SET_PAGE = 5000;

async function readSet(ctx: AdminContext, r: FindReport, set: 'schedule' | 'retry' | 'dead'): Promise<void> {
  const key = ctx.keys[set];
  const needle = Buffer.from(r.jid);
  // ZSCAN, not pages by rank: a set changes while it is read (the scheduler takes due entries off
  // the low end of retry and schedule, dead is trimmed from its oldest), and a rank page after
  // such a change skips members; ZSCAN returns every member present for the whole scan (a few
  // twice: a match is kept once). No MATCH: Redis's glob costs more than reading and matching here.
  const matched = new Set<string>();
  let cursor = '0';
  let steps = 0;
  let returned = 0;
  do {
    const [next, flat] = await ctx.redis.zscanBuffer(key, cursor, 'COUNT', SET_PAGE);
    cursor = next.toString();
    returned += flat.length / 2;
    for (let i = 0; i < flat.length; i += 2) {
      if (!flat[i].includes(needle)) continue; // only members holding the jid's bytes are decoded
      const text = flat[i].toString('utf8');
      if (matched.has(text)) continue;
      matched.add(text);
      addMatch(r, text, { where: set, queue: null, key, node: null, at: Number(flat[i + 1].toString()) });
    }
    if (++steps * SET_PAGE >= SCAN_BOUND && cursor !== '0') {
      r.truncated.push(key);
      break;
    }
  } while (cursor !== '0');
  r.scanned += Math.min(returned, await ctx.redis.zcard(key));
}
