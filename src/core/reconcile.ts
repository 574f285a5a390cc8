// After a lost reply (a reconnect, a wait abandoned at shutdown): hands back to the queue every
// job this node holds for a queue but is not running — a claim whose confirmation never ran,
// and in-progress entries whose fetch reply never arrived. Entries are matched by exact bytes,
// one for one, so a running duplicate keeps its own copy (docs/reliability.md, "Who owns a job").
// And the other way round, after a failover to a primary that missed the fetch: jobs it runs
// and no longer holds are taken back from the queue if they are there (docs/redis-ha.md). Not
// while the node's heartbeat key is missing (a failover lost its registration, or it was reaped):
// the reconcile fails and is retried, so the node fetches nothing before its supervisor has
// registered it again (or fenced it), and a job it runs is not fetched again meanwhile.
import { FAILOVER } from '../config/defaults.js';
import { countRedisEvent } from '../redis/failover-stats.js';
import type { Scripts } from '../redis/scripts.js';
import type { Logger } from '../util/logger.js';
import type { RunningEntry } from './settler.js';

/** The reconcile found the node unregistered on this server: retried (the supervisor registers it again or fences it). */
export class NodeNotRegisteredError extends Error {
  constructor(node: string) {
    super(`node ${node} has no heartbeat key on this server (a failover lost its registration, or it was reaped): waiting for its supervisor`);
  }
}

export async function reconcileHeld(scripts: Scripts, queue: string, node: string, running: Iterable<RunningEntry>, log: Logger): Promise<void> {
  if ((await scripts.redis.exists(scripts.keys.node(node))) === 0) throw new NodeNotRegisteredError(node);
  // A claim whose confirmation never ran (the wait's connection died right after the BLMOVE).
  const claimed = await scripts.redis.lrangeBuffer(scripts.keys.nodeClaim(node, queue), 0, -1);
  const unclaimed = await scripts.handback(queue, node, claimed, 'claim');
  if (unclaimed > 0) log.warn('handed back a job whose claim was not confirmed (a lost wait reply)', { queue, count: unclaimed });
  const held = await scripts.redis.lrangeBuffer(scripts.keys.inprogress(queue, node), 0, -1);
  // Byte-exact keys (latin1 maps each byte to one char).
  const mine = new Map<string, RunningEntry[]>();
  for (const e of running) {
    const k = e.raw.toString('latin1');
    const list = mine.get(k);
    if (list) list.push(e);
    else mine.set(k, [e]);
  }
  const orphans: Buffer[] = [];
  for (const raw of held) {
    const list = mine.get(raw.toString('latin1'));
    if (list?.length) list.pop();
    else orphans.push(raw);
  }
  const moved = await scripts.handback(queue, node, orphans);
  if (moved > 0) log.warn('handed back jobs whose fetch reply was lost in a reconnect', { queue, count: moved });
  // Running, not settled, and not held: a failover undid their fetch (or a reaper took them over).
  const unheld = [...mine.values()].flat().filter((e) => !e.closed);
  if (unheld.length === 0) return;
  const taken = await scripts.reclaim(
    queue,
    node,
    unheld.map((e) => e.raw),
    FAILOVER.reclaimDepth,
  );
  if (taken < 0) throw new NodeNotRegisteredError(node);
  if (taken > 0) {
    countRedisEvent('reclaimed', taken);
    log.warn('took back from the queue running jobs a failover had put back there (their fetch was not replicated)', { queue, count: taken });
  }
}
