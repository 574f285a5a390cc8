// The fleet's timeline for operators (verk web's Nodes page): what supervisors recorded of their
// nodes (verk:events: joined, left, exited, fenced; lua/fleet-event-1.lua) merged with what
// reapers recorded (verk:recoveries: a dead node reaped, its jobs requeued), newest first, every
// time on Redis's clock. Both lists are bounded; an unreadable entry is counted, not shown.
import { FLEET_EVENT_KINDS, type FleetEventKind } from '../redis/scripts.js';
import type { AdminContext } from './admin-context.js';
import type { RecoveriesReport } from './recoveries.js';

export interface FleetEvent {
  /** Redis time, epoch ms. */
  at: number;
  kind: FleetEventKind | 'reaped';
  node: string;
  /** The supervisor that recorded it (its identity), or the reaper ("by"). */
  by: string;
  detail: string;
}

const KINDS = new Set<string>(FLEET_EVENT_KINDS);

/** The newest `limit` events: verk:events merged with the recovery events the caller has read (newest first, as listRecoveries gives them). */
export async function listFleetEvents(ctx: AdminContext, rec: RecoveriesReport, limit: number): Promise<{ events: FleetEvent[]; unreadable: number }> {
  const raws = await ctx.redis.lrange(ctx.keys.events, 0, Math.max(0, limit - 1));
  let unreadable = rec.unreadable;
  const events: FleetEvent[] = [];
  for (const raw of raws) {
    try {
      const e = JSON.parse(raw) as Record<string, unknown>;
      if (typeof e.at !== 'number' || typeof e.node !== 'string' || !KINDS.has(String(e.kind))) throw new Error('not an event');
      events.push({ at: e.at, kind: e.kind as FleetEventKind, node: e.node, by: String(e.identity ?? ''), detail: String(e.detail ?? '') });
    } catch {
      unreadable++;
    }
  }
  for (const r of rec.events.slice(0, limit)) {
    const dead = r.dead ? `, ${r.dead} buried as poison pills` : '';
    events.push({ at: Math.round(r.at * 1000), kind: 'reaped', node: r.node, by: r.by, detail: `${r.moved} jobs requeued${dead}` });
  }
  events.sort((a, b) => b.at - a.at);
  return { events: events.slice(0, limit), unreadable };
}
