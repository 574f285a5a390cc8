// After a lost reply (a reconnect, a wait abandoned at shutdown): hands back to the queue every
// job this node holds for a queue but is not running — a claim whose confirmation never ran,
// and in-progress entries whose fetch reply never arrived. Entries are matched by exact bytes,
// one for one, so a running duplicate keeps its own copy (docs/reliability.md, "Who owns a job").
// And the other way round, after a failover to a primary that missed the fetch: jobs it runs
// and no longer holds are taken back from the queue if they are there (docs/redis-ha.md). Not
// while the node's heartbeat key is missing (a failover lost its registration, or it was reaped):
// the reconcile fails and is retried, so the node fetches nothing before its supervisor has
// registered it again (or fenced it), and a job it runs is not fetched again meanwhile. Jobs a
// fetch returned after a reconnect (`fetched`, not started: the command was sent again on the new
// connection) are matched after the running ones: a held copy left for one means it is this
// node's to start (returned); none left means it was the copy of a job the node runs already.
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

/** Returns the jobs of `fetched` the node holds and is to start. */
export async function reconcileHeld(
  scripts: Scripts,
  queue: string,
  node: string,
  running: Iterable<RunningEntry>,
  log: Logger,
  fetched: readonly Buffer[] = [],
): Promise<Buffer[]> {
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
  const unstarted = new Map<string, Buffer[]>();
  for (const raw of fetched) {
    const k = raw.toString('latin1');
    unstarted.set(k, [...(unstarted.get(k) ?? []), raw]);
  }
  const orphans: Buffer[] = [];
  const start: Buffer[] = [];
  for (const raw of held) {
    const k = raw.toString('latin1');
    const list = mine.get(k);
    if (list?.length) list.pop();
    else if (unstarted.get(k)?.length) start.push(unstarted.get(k)!.pop()!);
    else orphans.push(raw);
  }
  const moved = await scripts.handback(queue, node, orphans);
  if (moved > 0) log.warn('handed back jobs whose fetch reply was lost in a reconnect', { queue, count: moved });
  // Running, not settled, and not held: a failover undid their fetch (or a reaper took them over).
  const unheld = [...mine.values()].flat().filter((e) => !e.closed);
  if (unheld.length === 0) return start;
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
  return start;
}
