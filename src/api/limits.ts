// `verk limits` and `verk limits why`: what the cluster-wide limits (docs/limits.md) hold now,
// read from Redis only, so it works without the config: the limits come from verk:limits (every
// node writes its own at start), the config's limits are used for queues Redis has none for. Per
// queue and key: slots held / the limit, holders by node, parked jobs, rate used in the window,
// next reopening; and why a key's next job is not running. Ages use Redis's clock.
import type { LimitEntry } from '../config/limits.js';
import type { AdminContext } from './admin-context.js';
import { nodeLiveness, redisNowMs } from './node-registry.js';

/** Keys shown per queue at most (held or parked); the report says when there were more. */
export const KEYS_SHOWN = 1000;

export interface LimitDef {
  key: string;
  concurrency: number;
  rate: number;
  rate_window_ms: number;
  /** redis: recorded by a node in verk:limits; config: only in this config. */
  source: 'redis' | 'config';
}

export interface KeyState {
  key: string;
  held: number;
  /** The concurrency limit (0 = none). */
  limit: number;
  /** Node id → slots it holds for this key. */
  holders: Record<string, number>;
  parked: number;
  /** Starts in the rate window now (null without a rate). */
  rate_used: number | null;
  /** When the key may start a parked job again (ISO, Redis clock), null when it is not waiting on its window. */
  next_reopening: string | null;
  /** In the ready set: a fetching node starts its next parked job. */
  due: boolean;
}

export interface QueueLimits {
  queue: string;
  limit: LimitDef;
  held_total: number;
  parked_total: number;
  keys: KeyState[];
  /** More keys than KEYS_SHOWN: the rest are not listed. */
  truncated: boolean;
}

export interface LimitsReport {
  redis_time: string;
  queues: QueueLimits[];
}

interface StoredLimit {
  key?: string;
  concurrency?: number;
  rate?: number;
  rateWindow?: number;
}

/** The limits: verk:limits, then the config's for queues not recorded there. */
export async function limitDefs(ctx: AdminContext, config: readonly LimitEntry[] = []): Promise<Map<string, LimitDef>> {
  const out = new Map<string, LimitDef>();
  for (const [queue, text] of Object.entries(await ctx.redis.hgetall(ctx.keys.limits))) {
    try {
      const r = JSON.parse(text) as StoredLimit;
      out.set(queue, {
        key: r.key ?? '',
        concurrency: Number(r.concurrency ?? 0),
        rate: Number(r.rate ?? 0),
        rate_window_ms: Number(r.rateWindow ?? 0),
        source: 'redis',
      });
    } catch {
      /* a record this version cannot read: shown from the config if it has one */
    }
  }
  for (const l of config) {
    if (!out.has(l.queue)) out.set(l.queue, { key: l.key, concurrency: l.concurrency, rate: l.rate, rate_window_ms: l.rateWindow, source: 'config' });
  }
  return out;
}

/** Node id → (queue → key → slots held), over the registered nodes. */
async function holdersByNode(ctx: AdminContext): Promise<Map<string, Map<string, Map<string, number>>>> {
  const { ids } = await nodeLiveness(ctx.redis, ctx.keys);
  const pipe = ctx.redis.pipeline();
  for (const id of ids) pipe.hgetall(ctx.keys.nodeSlots(id));
  const res = ids.length ? ((await pipe.exec()) ?? []) : [];
  const out = new Map<string, Map<string, Map<string, number>>>();
  ids.forEach((id, i) => {
    const slots = (res[i]?.[1] ?? {}) as Record<string, string>;
    for (const [field, value] of Object.entries(slots)) {
      const tab = field.indexOf('\t');
      if (tab < 0) continue;
      const q = field.slice(0, tab);
      const byKey = out.get(q) ?? new Map<string, Map<string, number>>();
      out.set(q, byKey);
      for (const key of value.split('\t')) {
        const nodes = byKey.get(key) ?? new Map<string, number>();
        byKey.set(key, nodes);
        nodes.set(id, (nodes.get(id) ?? 0) + 1);
      }
    }
  });
  return out;
}

export async function limitsReport(ctx: AdminContext, config: readonly LimitEntry[] = [], only?: { queue: string; key?: string }): Promise<LimitsReport> {
  const now = await redisNowMs(ctx.redis);
  const defs = await limitDefs(ctx, config);
  const holders = await holdersByNode(ctx);
  const queues: QueueLimits[] = [];
  for (const [queue, limit] of [...defs].sort(([a], [b]) => a.localeCompare(b))) {
    if (only && only.queue !== queue) continue;
    const k = ctx.keys;
    const [held, parkedKeys, ready] = await Promise.all([
      ctx.redis.hgetall(k.limitHeld(queue)),
      ctx.redis.smembers(k.limitKeys(queue)),
      ctx.redis.zrange(k.limitReady(queue), 0, -1, 'WITHSCORES'),
    ]);
    const readyAt = new Map<string, number>();
    for (let i = 0; i < ready.length; i += 2) readyAt.set(ready[i], Number(ready[i + 1]));
    let names = [...new Set([...Object.keys(held), ...parkedKeys, ...readyAt.keys()])].sort();
    if (only?.key !== undefined) names = [only.key];
    const truncated = names.length > KEYS_SHOWN;
    names = names.slice(0, KEYS_SHOWN);
    const pipe = ctx.redis.pipeline();
    for (const key of names) {
      pipe.llen(k.limitParked(queue, key));
      pipe.zcount(k.limitRate(queue, key), `(${now - limit.rate_window_ms}`, '+inf');
      pipe.zrange(k.limitRate(queue, key), 0, 0, 'WITHSCORES');
    }
    const res = names.length ? ((await pipe.exec()) ?? []) : [];
    const keys = names.map((key, i): KeyState => {
      const parked = Number(res[3 * i]?.[1] ?? 0);
      const used = Number(res[3 * i + 1]?.[1] ?? 0);
      const oldest = res[3 * i + 2]?.[1] as string[] | undefined;
      const at = readyAt.get(key);
      const windowFull = limit.rate > 0 && used >= limit.rate && oldest?.[1] !== undefined;
      const reopen = windowFull ? Number(oldest[1]) + limit.rate_window_ms : at !== undefined && at > now ? at : undefined;
      return {
        key,
        held: Number(held[key] ?? 0),
        limit: limit.concurrency,
        holders: Object.fromEntries(holders.get(queue)?.get(key) ?? []),
        parked,
        rate_used: limit.rate > 0 ? used : null,
        next_reopening: reopen !== undefined ? new Date(reopen).toISOString() : null,
        due: at !== undefined && at <= now,
      };
    });
    queues.push({
      queue,
      limit,
      held_total: Object.values(held).reduce((n, v) => n + Number(v), 0),
      parked_total: keys.reduce((n, x) => n + x.parked, 0),
      keys,
      truncated,
    });
  }
  return { redis_time: new Date(now).toISOString(), queues };
}

export interface WhyReport {
  queue: string;
  key: string;
  /** due: nothing holds it back (a node starts it soon); the others say what does. */
  verdict: 'not_limited' | 'nothing_parked' | 'paused' | 'no_fetcher' | 'concurrency_full' | 'rate_window' | 'due';
  reasons: string[];
  state: KeyState | null;
}

/** Why the next parked job of (queue, key) is not running (docs/limits.md, "verk limits why"). */
export async function whyLimited(ctx: AdminContext, queue: string, key: string, config: readonly LimitEntry[] = []): Promise<WhyReport> {
  const report = await limitsReport(ctx, config, { queue, key });
  const q = report.queues[0];
  if (!q) return { queue, key, verdict: 'not_limited', reasons: [`queue ${queue} has no limit (none recorded in verk:limits, none in this config)`], state: null };
  const s = q.keys[0];
  const reasons: string[] = [];
  const paused = (await ctx.redis.sismember(ctx.keys.paused, queue)) === 1;
  const { live } = await nodeLiveness(ctx.redis, ctx.keys);
  const infos = await Promise.all(live.map((id) => ctx.redis.hget(ctx.keys.nodeInfo(id), 'queues')));
  const fetchers = live.filter((_, i) => (infos[i] ?? '').split(',').some((x) => x.split(':')[0] === queue));
  let verdict: WhyReport['verdict'] = 'due';
  if (s.parked === 0) {
    verdict = 'nothing_parked';
    reasons.push(`nothing parked for key ${key}: its next job (if any) is still in queue:${queue} and is taken as soon as a node fetches it`);
  }
  if (paused) reasons.push(`queue ${queue} is paused (verk resume ${queue})`);
  if (fetchers.length === 0) reasons.push(`no live node fetches queue ${queue}`);
  if (s.limit > 0 && s.held >= s.limit) {
    const by = Object.entries(s.holders)
      .map(([n, c]) => `${n} (${c})`)
      .join(', ');
    reasons.push(`concurrency full: ${s.held}/${s.limit} slots held${by ? ` by ${by}` : ''}; the next job starts when one of them finishes or its node is reaped`);
  }
  if (s.next_reopening)
    reasons.push(`rate window used: ${s.rate_used}/${q.limit.rate} started in the last ${q.limit.rate_window_ms} ms; the key may start again at ${s.next_reopening}`);
  if (s.parked > 0) {
    if (paused) verdict = 'paused';
    else if (fetchers.length === 0) verdict = 'no_fetcher';
    else if (s.limit > 0 && s.held >= s.limit) verdict = 'concurrency_full';
    else if (s.next_reopening) verdict = 'rate_window';
    else reasons.push(`due: ${s.parked} parked job(s) and a free slot; a fetching node starts the oldest one within its idle wait`);
  }
  return { queue, key, verdict, reasons, state: s };
}
