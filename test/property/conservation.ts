// The conservation check of the property tests: a census of every payload in Redis (each list
// or sorted set is a place: queue, in-progress, schedule, retry, dead) taken before and after
// one script call, and the rule that every payload that left a place either sits somewhere
// else with the same bytes, was rewritten the way the script's header allows, or was removed
// for good by that very call (ack, drop, dead-set trimming, or merging into an equal member of
// a sorted set). Anything else is a lost, altered or duplicated payload.
import type { Redis } from 'ioredis';

/** Payload bytes as a string key (latin1 maps bytes 1:1). */
export const bkey = (b: Buffer): string => b.toString('latin1');
const unkey = (k: string): Buffer => Buffer.from(k, 'latin1');

/** Lists and sorted sets that hold records (the reaper's schedule holds node ids), not payloads. */
const NOT_PLACES = new Set(['verk:recoveries', 'verk:malformed', 'verk:heartbeats', 'verk:events', 'verk:uniques', 'verk:uniques:released']);
/**
 * Periodic jobs' tick histories (verk:cron:<name>:history) are records too, and so are a limited
 * queue's ready set and rate logs (their members are keys and start times). Its parked lists
 * (verk:limit:<q>:parked:<key>) hold payloads: they are places.
 */
const isRecordList = (k: string) => NOT_PLACES.has(k) || /^verk:cron:.*:history$/.test(k) || /^verk:limit:[^:]+:(ready|rate:.*)$/.test(k);

export interface Census {
  /** place (key name) → payload → count */
  places: Map<string, Map<string, number>>;
  /** sorted-set place → member → score */
  scores: Map<string, Map<string, number>>;
  totals: Map<string, number>;
}

export async function census(redis: Redis): Promise<Census> {
  const names = (await redis.keys('*')).filter((k) => !isRecordList(k)).sort();
  const types = names.length ? ((await names.reduce((p, k) => p.type(k), redis.pipeline()).exec()) ?? []) : [];
  const pipe = redis.pipeline();
  const read: { key: string; zset: boolean }[] = [];
  names.forEach((key, i) => {
    const type = types[i]?.[1];
    if (type === 'list') {
      pipe.lrangeBuffer(key, 0, -1);
      read.push({ key, zset: false });
    }
    if (type === 'zset') {
      pipe.zrangeBuffer(key, 0, -1, 'WITHSCORES');
      read.push({ key, zset: true });
    }
  });
  const replies = read.length ? ((await pipe.exec()) ?? []) : [];
  const c: Census = { places: new Map(), scores: new Map(), totals: new Map() };
  read.forEach(({ key, zset }, i) => {
    const [err, items] = replies[i] as [Error | null, Buffer[]];
    if (err) throw err;
    const counts = new Map<string, number>();
    const scores = new Map<string, number>();
    for (let j = 0; j < items.length; j += zset ? 2 : 1) {
      const k = bkey(items[j]);
      counts.set(k, (counts.get(k) ?? 0) + 1);
      c.totals.set(k, (c.totals.get(k) ?? 0) + 1);
      if (zset) scores.set(k, Number(items[j + 1].toString()));
    }
    c.places.set(key, counts);
    if (zset) c.scores.set(key, scores);
  });
  return c;
}

/** How many payloads a place holds. */
export function size(c: Census, place: string): number {
  let n = 0;
  for (const v of c.places.get(place)?.values() ?? []) n += v;
  return n;
}

/** How many payloads the scripts rewrote by a header rule (e.g. the reaper's fields), in all. */
export const rewritesSeen = { count: 0 };

/** What one call may do besides moving payloads byte for byte. */
export interface Allowance {
  /** The only places the call may change (its header's keys); undefined = not checked. */
  places?: string[];
  /** Places it may change besides, by name prefix (a limited queue's parked lists). */
  placePrefixes?: string[];
  /** Explicit rewrites named in ARGV: payload `from` may come out as `to`. */
  rewrites?: [Buffer, Buffer][];
  /** Rewrites the script itself makes (e.g. the reaper's fields): is `to` a rewrite of `from`? */
  rules?: ((from: Buffer, to: Buffer) => boolean)[];
  /** Sorted sets the call adds to: a payload (or its rewrite) already there merges with it. */
  mergeInto?: string[];
  /** Payloads the call may remove for good, each occurrence once (ack, fail "drop"). */
  drops?: Buffer[];
  /** The reply says exactly this many `drops` happened. */
  exactDrops?: number;
  /** New payloads the call may add (a periodic tick's job): exactly this many, no more. */
  creates?: number;
  /** The call trims `dead` by score and size; `written` entries it wrote there may go too. */
  deadTrim?: { key: string; minScore: number; maxJobs: number; written: number; writtenScore?: number };
}

export interface Violation {
  kind: 'lost' | 'created' | 'touched' | 'reply';
  payload: string;
  from?: string[];
}

function wherePlaced(c: Census, k: string): string[] {
  const out: string[] = [];
  for (const [place, m] of c.places) if (m.has(k)) out.push(place);
  return out;
}

const take = (m: Map<string, number>, k: string, n = 1): void => {
  const v = (m.get(k) ?? 0) - n;
  if (v > 0) m.set(k, v);
  else m.delete(k);
};

/** The payloads a call lost or created beyond its allowance (empty = conserved). */
export function violations(before: Census, after: Census, a: Allowance): Violation[] {
  const lost = new Map<string, number>();
  const gained = new Map<string, number>();
  for (const k of new Set([...before.totals.keys(), ...after.totals.keys()])) {
    const d = (after.totals.get(k) ?? 0) - (before.totals.get(k) ?? 0);
    if (d < 0) lost.set(k, -d);
    if (d > 0) gained.set(k, d);
  }
  for (const [from, to] of a.rewrites ?? []) {
    const f = bkey(from),
      t = bkey(to);
    if (f !== t && lost.has(f) && gained.has(t)) {
      take(lost, f);
      take(gained, t);
    }
  }
  for (const g of [...gained.keys()]) {
    while (gained.has(g)) {
      const l = [...lost.keys()].find((x) => (a.rules ?? []).some((rule) => rule(unkey(x), unkey(g))));
      if (l === undefined) break;
      take(lost, l);
      take(gained, g);
      rewritesSeen.count++;
    }
  }
  let dropped = 0;
  for (const d of a.drops ?? []) {
    const k = bkey(d);
    if (lost.has(k)) {
      take(lost, k);
      dropped++;
    }
  }
  const out: Violation[] = [];
  if (a.exactDrops !== undefined && dropped !== a.exactDrops) {
    out.push({ kind: 'reply', payload: `removed ${a.exactDrops}, but the census shows ${dropped} acked` });
  }
  const merged = (k: string): boolean => {
    const targets = [k, ...(a.rewrites ?? []).filter(([f]) => bkey(f) === k).map(([, t]) => bkey(t))];
    if (targets.some((t) => (a.mergeInto ?? []).some((z) => after.scores.get(z)?.has(t) && before.scores.get(z)?.has(t)))) return true;
    // Equal payloads rewritten to equal bytes in one call become one member.
    const from = unkey(k);
    return (a.mergeInto ?? []).some((z) =>
      [...(after.scores.get(z)?.keys() ?? [])].some((m) => !before.scores.get(z)?.has(m) && (m === k || (a.rules ?? []).some((rule) => rule(from, unkey(m))))),
    );
  };
  const t = a.deadTrim;
  const deadFull = t ? (after.places.get(t.key)?.size ?? 0) >= t.maxJobs : false;
  let writtenTrims = t?.written ?? 0;
  for (const [k, n] of lost) {
    for (let i = 0; i < n; i++) {
      if (merged(k)) continue;
      if (t) {
        const oldScore = before.scores.get(t.key)?.get(k);
        const lowScore = t.writtenScore !== undefined && t.writtenScore < t.minScore;
        // An entry equal to what the call wrote took the written score before the trim.
        const rewritten = lowScore && (a.rewrites ?? []).some(([, to]) => bkey(to) === k);
        if (oldScore !== undefined && (oldScore < t.minScore || deadFull || rewritten)) continue;
        if (writtenTrims > 0 && (deadFull || lowScore)) {
          writtenTrims--;
          continue;
        }
      }
      out.push({ kind: 'lost', payload: preview(k), from: wherePlaced(before, k) });
    }
  }
  let creatable = a.creates ?? 0;
  for (const [k, n] of gained) {
    for (let i = 0; i < n; i++) {
      if (creatable > 0) {
        creatable--;
        continue;
      }
      out.push({ kind: 'created', payload: preview(k), from: wherePlaced(after, k) });
    }
  }
  if (creatable > 0) out.push({ kind: 'reply', payload: `said it pushed ${a.creates} new job(s), but the census shows ${(a.creates ?? 0) - creatable}` });
  if (a.places) {
    for (const place of new Set([...before.places.keys(), ...after.places.keys()])) {
      if (!a.places.includes(place) && !(a.placePrefixes ?? []).some((p) => place.startsWith(p)) && !sameCounts(before.places.get(place), after.places.get(place))) {
        out.push({ kind: 'touched', payload: `place ${place}, which the call has no business changing` });
      }
    }
  }
  return out;
}

function sameCounts(a = new Map<string, number>(), b = new Map<string, number>()): boolean {
  return a.size === b.size && [...a].every(([k, n]) => b.get(k) === n);
}

/** A short printable form of payload bytes (JSON-escaped, long ones cut). */
export function preview(k: string): string {
  const s = JSON.stringify(k.length > 90 ? `${k.slice(0, 60)}…(${k.length} bytes)…${k.slice(-20)}` : k);
  return s;
}

/** Top-level members of a JSON object text as raw byte strings, or null if it is not one. */
export function objectMembers(buf: Buffer): { key: string; text: string }[] | null {
  const s = bkey(buf);
  const n = s.length;
  let i = 0;
  const ws = () => {
    while (i < n && ' \t\r\n'.includes(s[i])) i++;
  };
  const str = (): boolean => {
    if (s[i] !== '"') return false;
    for (i++; i < n; i++) {
      if (s[i] === '\\') i++;
      else if (s[i] === '"') {
        i++;
        return true;
      }
    }
    return false;
  };
  ws();
  if (s[i] !== '{') return null;
  i++;
  const out: { key: string; text: string }[] = [];
  ws();
  if (s[i] === '}') {
    i++;
    ws();
    return i === n ? out : null;
  }
  for (;;) {
    ws();
    const start = i;
    if (!str()) return null;
    const rawKey = s.slice(start, i);
    ws();
    if (s[i] !== ':') return null;
    i++;
    let depth = 0;
    while (i < n) {
      const c = s[i];
      if (c === '"') {
        if (!str()) return null;
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) break;
        depth--;
      } else if (c === ',' && depth === 0) break;
      i++;
    }
    if (i >= n) return null;
    let key: string;
    try {
      key = JSON.parse(Buffer.from(rawKey, 'latin1').toString('utf8')) as string;
    } catch {
      key = rawKey;
    }
    out.push({ key, text: s.slice(start, i).replace(/\s+$/, '') });
    if (s[i] === '}') {
      i++;
      ws();
      return i === n ? out : null;
    }
    i++;
  }
}

/** A rule: `to` is `from` with only the named top-level fields added, replaced or moved. */
export function rewritesOnly(fields: string[]): (from: Buffer, to: Buffer) => boolean {
  const set = new Set(fields);
  return (from, to) => {
    const f = objectMembers(from),
      t = objectMembers(to);
    if (!f || !t) return false;
    const keep = (m: { key: string; text: string }[]) => m.filter((x) => !set.has(x.key)).map((x) => x.text);
    const a = keep(f),
      b = keep(t);
    return a.length === b.length && a.every((x, i) => x === b[i]) && t.some((x) => set.has(x.key));
  };
}
