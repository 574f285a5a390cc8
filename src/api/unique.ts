// Unique locks for operators (`verk unique why|list`, docs/unique-jobs.md): one lock's holder,
// where the holder is now (lua/unique-why-1.lua searches the places a job can be), since when
// and until what; the locks by age (verk:uniques), bounded; the sweeper's recent releases.
import { UNIQUE } from '../config/defaults.js';
import type { UniqueWhy } from '../redis/unique-calls.js';
import type { AdminContext } from './admin-context.js';

export interface UniqueWhyReport extends UniqueWhy {
  /** When the lock was taken (Redis ms, ISO), from its info; null when unknown. */
  since_iso: string | null;
  until: string | null;
  queue: string | null;
}

export async function whyUnique(ctx: AdminContext, key: string): Promise<UniqueWhyReport> {
  const w = await ctx.scripts.uniqueWhy(key);
  const since = typeof w.info?.since === 'number' ? new Date(w.info.since).toISOString() : null;
  return { ...w, since_iso: since, until: typeof w.info?.until === 'string' ? w.info.until : null, queue: typeof w.info?.queue === 'string' ? w.info.queue : null };
}

export interface UniqueRow {
  key: string;
  holder: string | null;
  since_iso: string | null;
  until: string | null;
  queue: string | null;
}

export interface UniqueList {
  locks: UniqueRow[];
  /** Locks in the index in all (the list shows at most UNIQUE.listMax, oldest first). */
  total: number;
  /** Locks the sweeper released (verk:stat:unique_swept) and its latest releases. */
  swept: number;
  released: Record<string, unknown>[];
}

export async function listUnique(ctx: AdminContext, limit: number = UNIQUE.listMax): Promise<UniqueList> {
  const { redis, keys } = ctx;
  const n = Math.max(1, Math.min(limit, UNIQUE.listMax));
  const [total, names, swept, released] = await Promise.all([
    redis.zcard(keys.uniques),
    redis.zrange(keys.uniques, 0, n - 1),
    redis.get(keys.uniqueSwept),
    redis.lrange(keys.uniquesReleased, 0, 9),
  ]);
  const [holders, infos] = names.length ? await Promise.all([redis.mget(...names.map((k) => keys.unique(k))), redis.hmget(keys.uniquesInfo, ...names)]) : [[], []];
  const locks = names.map((key, i) => {
    const info = parse(infos[i]);
    return {
      key,
      holder: holders[i] ?? null,
      since_iso: typeof info.since === 'number' ? new Date(info.since).toISOString() : null,
      until: typeof info.until === 'string' ? info.until : null,
      queue: typeof info.queue === 'string' ? info.queue : null,
    };
  });
  return { locks, total, swept: Number(swept ?? 0), released: released.map(parse) };
}

function parse(s: string | null | undefined): Record<string, unknown> {
  try {
    const v = JSON.parse(s ?? '{}') as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
