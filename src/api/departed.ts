// Departed nodes for the web dashboard's Nodes page: nodes that are no longer registered and
// whose jobs a reaper recovered, read off the recovery history (verk:recoveries). One reap can
// be several events (batches of reapBatch): they are summed per node, with the first and last
// time, who reaped it and the jids requeued and buried.
import type { RecoveryEvent } from './recoveries.js';

export interface DepartedNode {
  node: string;
  /** Who reaped it (the last event's reaper). */
  by: string;
  /** Epoch seconds of the last event. */
  at: number;
  moved: number;
  dead: number;
  jids: string[];
  dead_jids: string[];
}

/** Nodes named in `events` (newest first) that are not in `registered`, newest first. */
export function departedNodes(events: RecoveryEvent[], registered: ReadonlySet<string>): DepartedNode[] {
  const byNode = new Map<string, DepartedNode>();
  for (const e of events) {
    if (registered.has(e.node)) continue;
    let d = byNode.get(e.node);
    if (!d) byNode.set(e.node, (d = { node: e.node, by: e.by, at: e.at, moved: 0, dead: 0, jids: [], dead_jids: [] }));
    d.moved += e.moved;
    d.dead += e.dead;
    d.jids.push(...e.jids);
    d.dead_jids.push(...e.dead_jids);
  }
  return [...byNode.values()];
}
