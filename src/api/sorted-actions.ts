// Changing the sorted sets `retry`, `dead` and `schedule` for admin commands: requeue (one
// atomic, idempotent script per entry: ZREM, and only if that removed it, LPUSH to its queue +
// SADD queues), kill (retry/schedule to dead as it is, one script per entry, dead trimmed as a
// failure trims it), delete (ZREM of the exact member), clear (UNLINK the set). Every action can be a
// dry run. Requeue follows Sidekiq's SortedEntry#retry: fresh enqueued_at, retry_count - 1 (so a
// manual retry does not spend one); all other bytes of the payload are kept (patchJson). Both
// name the member by its exact bytes (an invalid-UTF-8 member can be deleted too). A job that
// carries a unique lock (docs/unique-jobs.md): kill and delete release it in the same call
// (lua/kill-2.lua, lua/unique-drop-1.lua); a requeue must own it (taken when free, refused with a
// skip reason when another job holds it).
import { patchJson } from '../job/raw-json.js';
import { redisNow, type AdminContext } from './admin-context.js';
import { entryJid, type Entry, type SetName } from './entries.js';

export interface ActionResult {
  set: SetName;
  action: 'requeue' | 'kill' | 'delete' | 'clear';
  dry_run: boolean;
  /** Entries selected. */
  matched: number;
  /** Entries actually moved or removed (0 in a dry run). */
  done: number;
  jids: string[];
  /** Selected entries that were not changed, and why (gone meanwhile, malformed). */
  skipped: { jid: string; reason: string }[];
}

export type Progress = (done: number, of: number) => void;

const BATCH = 200;

export async function requeueEntries(ctx: AdminContext, set: SetName, entries: Entry[], dryRun: boolean, progress?: Progress): Promise<ActionResult> {
  const res = result(set, 'requeue', dryRun, entries);
  const now = await redisNow(ctx.redis);
  return changeEach(res, entries, progress, async (e) => {
    if (!e.job) {
      res.skipped.push({ jid: entryJid(e), reason: `malformed payload (${e.malformed}); delete it instead` });
      return undefined;
    }
    if (dryRun) return undefined;
    const rc = e.job.data.retry_count;
    const payload = patchJson(e.job.raw, {
      enqueued_at: now,
      // A manual retry of a failed job does not spend one (Sidekiq's SortedEntry#retry); a
      // scheduled job is run as it is (Sidekiq's add_to_queue).
      ...(set !== 'schedule' && typeof rc === 'number' && Number.isInteger(rc) ? { retry_count: rc - 1 } : {}),
    });
    // A ttl lock only expires; done and started locks are owned again by the requeued job (it has not started).
    const u = e.job.unique;
    const lock = u && u.until !== 'ttl' ? { key: u.key, jid: e.job.jid, until: u.until } : undefined;
    const r = await ctx.scripts.requeue(set, e.member, payload, e.job.queue, lock);
    if (typeof r === 'object') {
      res.skipped.push({ jid: entryJid(e), reason: `job ${r.locked} holds its unique lock ${lock!.key}` });
      return undefined;
    }
    return r === 'moved';
  });
}

/**
 * Runs `change` on every entry, BATCH at a time (the calls of one batch go out pipelined, each
 * its own atomic command): true counts the entry done, false skipped because it left the set
 * meanwhile, undefined nothing (the change recorded why itself, or it is a dry run).
 */
async function changeEach(
  res: ActionResult,
  entries: Entry[],
  progress: Progress | undefined,
  change: (e: Entry) => Promise<boolean | undefined>,
): Promise<ActionResult> {
  for (let i = 0; i < entries.length; i += BATCH) {
    progress?.(i, entries.length);
    const batch = entries.slice(i, i + BATCH);
    const changed = await Promise.all(batch.map(change));
    changed.forEach((ok, j) => {
      if (ok) res.done++;
      else if (ok === false) res.skipped.push({ jid: entryJid(batch[j]), reason: 'no longer in the set' });
    });
  }
  return res;
}

/** How the dead set is trimmed when a kill adds to it (the config's deadTimeout and deadMaxJobs). */
export interface DeadBounds {
  deadTimeout: number;
  deadMaxJobs: number;
}

/**
 * Moves retry or schedule entries to the dead set as they are (Sidekiq's "Kill": no retry is
 * left, the job stays inspectable and can be requeued from dead); each entry in its own atomic,
 * idempotent script call, so one moved meanwhile (promoted, requeued, killed by someone else) is
 * skipped, never doubled.
 */
export async function killEntries(
  ctx: AdminContext,
  set: 'retry' | 'schedule',
  entries: Entry[],
  bounds: DeadBounds,
  dryRun: boolean,
  progress?: Progress,
): Promise<ActionResult> {
  const res = result(set, 'kill', dryRun, entries);
  if (dryRun) return res;
  const now = await redisNow(ctx.redis);
  const minScore = now - bounds.deadTimeout / 1000;
  return changeEach(res, entries, progress, async (e) => (await ctx.scripts.kill(set, e.member, now, minScore, bounds.deadMaxJobs, !!e.job?.unique)) === 'moved');
}

export async function deleteEntries(ctx: AdminContext, set: SetName, entries: Entry[], dryRun: boolean, progress?: Progress): Promise<ActionResult> {
  const res = result(set, 'delete', dryRun, entries);
  if (dryRun) return res;
  const key = ctx.keys[set];
  return changeEach(res, entries, progress, async (e) =>
    e.job?.unique ? (await ctx.scripts.uniqueDrop(key, e.member)).removed === 1 : (await ctx.redis.zrem(key, e.member)) === 1,
  );
}

/** Empties the whole set. */
export async function clearSet(ctx: AdminContext, set: SetName, dryRun: boolean): Promise<ActionResult> {
  const key = ctx.keys[set];
  const count = await ctx.redis.zcard(key);
  const res: ActionResult = { set, action: 'clear', dry_run: dryRun, matched: count, done: 0, jids: [], skipped: [] };
  if (dryRun) return res;
  const [[, n]] = (await ctx.redis.multi().zcard(key).unlink(key).exec()) as [[Error | null, number]];
  res.done = n;
  return res;
}

function result(set: SetName, action: ActionResult['action'], dryRun: boolean, entries: Entry[]): ActionResult {
  return { set, action, dry_run: dryRun, matched: entries.length, done: 0, jids: entries.map(entryJid), skipped: [] };
}
