// `verk recoveries`: the recovery history kept by the reap script in verk:recoveries (newest
// first, bounded by recoveryHistory). Entries are cjson-encoded, where an empty Lua table comes
// out as {}: jid lists are normalised to [] and the queue map to {}.
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';

export interface RecoveryEvent {
  /** Redis time of the recovery, epoch seconds, and the same as ISO 8601. */
  at: number;
  at_iso: string;
  /** Who reaped: a supervisor id ("<base>-supervisor-<pid>") or "cli:<hostname>". */
  by: string;
  /** The dead node. */
  node: string;
  /** Jobs requeued and buried as poison pills in this event (one reap batch). */
  moved: number;
  dead: number;
  /** Jobs taken per queue. */
  queues: Record<string, number>;
  /** Requeued jids (first 100 per event) and the jids sent to dead. */
  jids: string[];
  dead_jids: string[];
}

export interface RecoveriesReport {
  /** Events stored in total (the list may hold more than were returned). */
  total: number;
  events: RecoveryEvent[];
  /** Entries that could not be parsed (skipped). */
  unreadable: number;
}

export async function listRecoveries(redis: Redis, keys: Keys, limit: number): Promise<RecoveriesReport> {
  const [total, raws] = await Promise.all([redis.llen(keys.recoveries), limit > 0 ? redis.lrange(keys.recoveries, 0, limit - 1) : Promise.resolve([])]);
  const events: RecoveryEvent[] = [];
  let unreadable = 0;
  for (const raw of raws) {
    const e = parseEvent(raw);
    if (e) events.push(e);
    else unreadable++;
  }
  return { total, events, unreadable };
}

export function parseEvent(raw: string): RecoveryEvent | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const at = Number(v.at);
  return {
    at: Number.isFinite(at) ? at : 0,
    at_iso: new Date((Number.isFinite(at) ? at : 0) * 1000).toISOString(),
    by: String(v.by ?? ''),
    node: String(v.node ?? ''),
    moved: Number(v.moved ?? 0) || 0,
    dead: Number(v.dead ?? 0) || 0,
    queues: counts(v.queues),
    jids: list(v.jids),
    dead_jids: list(v.dead_jids),
  };
}

/** cjson writes an empty array as {}: anything that is not an array is an empty list. */
function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function counts(v: unknown): Record<string, number> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, n]) => [k, Number(n) || 0]));
}
