// Admin operations on periodic jobs (`verk cron …`): the entries of the config beside their state
// in Redis (watermark, last job, paused), the next ticks on Redis's clock, the bounded tick
// history, a run now, and the cluster-wide pause (verk:cron:paused). The definitions are the
// config file's; Redis keeps only state, so an entry known to Redis but gone from the config is
// listed as such (its state stays until deleted).
import type { CronEntry } from '../config/cron.js';
import { cronJobHead } from '../job/cron-job.js';
import { nextTicks } from '../job/cron-schedule.js';
import { type AdminContext, redisNow } from './admin-context.js';

export interface CronRow {
  name: string;
  /** false: Redis has state for it, the config no longer declares it. */
  in_config: boolean;
  class: string | null;
  queue: string | null;
  schedule: string | null;
  tz: string | null;
  catch_up: string | null;
  overlap: string | null;
  paused: boolean;
  /** The watermark: the last decided tick (ISO), or the instant the entry was armed. */
  last_tick: string | null;
  last_outcome: string | null;
  last_jid: string | null;
  next_tick: string | null;
}

export interface CronList {
  redis_time: string;
  entries: CronRow[];
}

const isoOrNull = (ms: string | null | undefined) => (ms && Number.isFinite(Number(ms)) ? new Date(Number(ms)).toISOString() : null);

export async function listCron(ctx: AdminContext, entries: readonly CronEntry[]): Promise<CronList> {
  const nowS = await redisNow(ctx.redis);
  const known = await ctx.redis.smembers(ctx.keys.cronEntries);
  const names = [...new Set([...entries.map((e) => e.name), ...known.sort()])];
  const pipe = ctx.redis.pipeline();
  for (const n of names) pipe.hmget(ctx.keys.cronState(n), 'last_tick', 'last_outcome', 'last_jid').sismember(ctx.keys.cronPaused, n);
  const res = (await pipe.exec()) ?? [];
  const rows = names.map((name, i): CronRow => {
    const [errState, state] = res[2 * i] ?? [new Error('no reply'), null];
    const [errPaused, paused] = res[2 * i + 1] ?? [new Error('no reply'), null];
    if (errState) throw errState;
    if (errPaused) throw errPaused;
    const [lastTick, lastOutcome, lastJid] = state as (string | null)[];
    const e = entries.find((x) => x.name === name);
    const next = e ? nextTicks(e, Math.max(nowS * 1000, Number(lastTick) || 0), 1)[0] : undefined;
    return {
      name,
      in_config: e !== undefined,
      class: e?.class ?? null,
      queue: e?.queue ?? null,
      schedule: e?.schedule ?? null,
      tz: e?.tz ?? null,
      catch_up: e?.catchUp ?? null,
      overlap: e?.overlap ?? null,
      paused: paused === 1,
      last_tick: isoOrNull(lastTick),
      last_outcome: lastOutcome ?? (lastTick ? 'armed' : null),
      last_jid: lastJid ?? null,
      next_tick: next === undefined ? null : new Date(next).toISOString(),
    };
  });
  return { redis_time: new Date(nowS * 1000).toISOString(), entries: rows };
}

/** The next `count` ticks of an entry after Redis's now (paused entries still list them: they are skipped when due). */
export async function nextCron(ctx: AdminContext, e: CronEntry, count: number): Promise<{ name: string; tz: string; redis_time: string; ticks: string[] }> {
  const nowMs = (await redisNow(ctx.redis)) * 1000;
  return { name: e.name, tz: e.tz, redis_time: new Date(nowMs).toISOString(), ticks: nextTicks(e, nowMs, count).map((t) => new Date(t).toISOString()) };
}

export interface CronEvent {
  outcome: string;
  tick: string | null;
  at: string | null;
  by: string | null;
  jid: string | null;
  lag_ms: number | null;
  reason: string | null;
  /** A missed run: how many ticks (capped by the planner) and from which one. */
  count: number | null;
  from: string | null;
}

/** The entry's tick events, newest first (verk:cron:<name>:history, capped). */
export async function cronHistory(ctx: AdminContext, name: string, limit: number): Promise<{ name: string; events: CronEvent[]; unreadable: number }> {
  const raw = await ctx.redis.lrange(ctx.keys.cronHistory(name), 0, Math.max(0, limit - 1));
  let unreadable = 0;
  const events: CronEvent[] = [];
  for (const r of raw) {
    let ev: Record<string, unknown>;
    try {
      ev = JSON.parse(r) as Record<string, unknown>;
    } catch {
      unreadable++;
      continue;
    }
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const iso = (v: unknown) => (num(v) === null ? null : new Date(v as number).toISOString());
    events.push({
      outcome: String(ev.outcome ?? '?'),
      tick: iso(ev.tick),
      at: iso(ev.at),
      by: typeof ev.by === 'string' ? ev.by : null,
      jid: typeof ev.jid === 'string' ? ev.jid : null,
      lag_ms: num(ev.lag_ms),
      reason: typeof ev.reason === 'string' ? ev.reason : null,
      count: num(ev.count),
      from: iso(ev.from),
    });
  }
  return { name, events, unreadable };
}

/** Enqueues the entry's job now (whatever its schedule, pause or overlap say); recorded as 'run'. */
export async function runCron(ctx: AdminContext, e: CronEntry, by: string): Promise<{ name: string; jid: string; queue: string; enqueued_at: string }> {
  const { head, jid } = cronJobHead(e);
  const r = await ctx.scripts.cronTick({ mode: 'run', name: e.name, queue: e.queue, overlap: e.overlap, tickMs: 0, head, jid, by, recoveredForms: 0 });
  return { name: e.name, jid: r.jid ?? jid, queue: e.queue, enqueued_at: new Date(r.nowMs).toISOString() };
}

export async function pauseCron(ctx: AdminContext, name: string, paused: boolean): Promise<{ name: string; paused: boolean; changed: boolean }> {
  const n = paused ? await ctx.redis.sadd(ctx.keys.cronPaused, name) : await ctx.redis.srem(ctx.keys.cronPaused, name);
  return { name, paused, changed: n === 1 };
}

/** Names Redis knows (armed by some supervisor once). */
export function knownCron(ctx: AdminContext): Promise<string[]> {
  return ctx.redis.smembers(ctx.keys.cronEntries);
}
