// `verk requeue-dead`: a reaper pass run by hand, through the very script the reaper uses
// (Scripts.reapAll, not forced, recoveries counted), so it races safely with live reapers: each
// job moves exactly once. Options come from the resolved Config, as the reaper builds them.
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Keys } from '../redis/keys.js';
import type { ReapOptions } from '../redis/scripts.js';
import { reapOptions as sharedReapOptions } from '../redis/reap-options.js';
import type { AdminContext } from './admin-context.js';
import { heartbeatsAlive, registeredNodes } from './node-registry.js';

export type NodeStatus = 'reaped' | 'gone' | 'alive' | 'not_registered' | 'wrongtype';

export interface RequeueNodeResult {
  node: string;
  /** reaped: this pass finished it; gone: another reaper had started it; alive: heartbeat present, untouched; wrongtype: a key it would write has the wrong type, nothing moved. */
  status: NodeStatus;
  requeued: number;
  dead: number;
  remaining: number;
}

export interface RequeueDeadReport {
  dry_run: false;
  by: string;
  nodes: RequeueNodeResult[];
  requeued: number;
  dead: number;
}

/** The reaper's options for one node, from the resolved config (the same as the reaper duty's). */
export function reapOptions(config: Readonly<Config>, node: string, by: string): ReapOptions {
  return sharedReapOptions(config, node, by);
}

export interface Target {
  node: string;
  status: 'dead' | 'alive' | 'not_registered';
}

/**
 * The nodes a pass looks at: every registered node whose heartbeat key is gone, or only `only`
 * (reported as alive or not registered when it cannot be reaped).
 */
export async function targets(redis: Redis, keys: Keys, only?: string): Promise<Target[]> {
  const { ids } = await registeredNodes(redis, keys);
  const wanted = only === undefined ? ids : [only];
  const alive = await heartbeatsAlive(redis, keys, wanted);
  const out: Target[] = [];
  for (const node of wanted) {
    if (only !== undefined && !ids.includes(node)) out.push({ node, status: 'not_registered' });
    else if (alive.get(node)) {
      if (only !== undefined) out.push({ node, status: 'alive' });
    } else out.push({ node, status: 'dead' });
  }
  return out;
}

export async function requeueDead(admin: AdminContext, config: Readonly<Config>, opts: { by: string; node?: string }): Promise<RequeueDeadReport> {
  const report: RequeueDeadReport = { dry_run: false, by: opts.by, nodes: [], requeued: 0, dead: 0 };
  for (const t of await targets(admin.redis, admin.keys, opts.node)) {
    if (t.status !== 'dead') {
      report.nodes.push({ node: t.node, status: t.status, requeued: 0, dead: 0, remaining: 0 });
      continue;
    }
    const r = await admin.scripts.reapAll(reapOptions(config, t.node, opts.by));
    report.nodes.push({ node: t.node, status: r.status, requeued: r.moved, dead: r.buried, remaining: r.remaining });
    report.requeued += r.moved;
    report.dead += r.buried;
  }
  return report;
}
