// verk's mode A (`--node-id X --fixed-node-id`): before a supervisor uses a fixed id, it hands
// back what the id's earlier run left. If the id's heartbeat key is still alive (a restart
// within nodeTtl) it waits for it to expire; if someone keeps renewing it, another process uses
// the id: refuse (exit 78) rather than steal its running jobs.
import type { Config } from '../config/schema.js';
import type { Reaper } from '../core/duties/reaper.js';
import type { Scripts } from '../redis/scripts.js';
import { monotonicMs } from '../util/clock.js';
import { ConfigError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { sleep } from '../util/sleep.js';

export interface TakeOverDeps {
  config: Config;
  scripts: Scripts;
  reaper: Reaper;
  log: Logger;
  /** Aborted by a stop: gives up waiting. */
  halt: AbortSignal;
}

export async function takeOverFixedId(id: string, d: TakeOverDeps): Promise<void> {
  const key = d.scripts.keys.node(id);
  const deadline = monotonicMs() + d.config.nodeTtl + 2 * d.config.heartbeatInterval;
  let logged = false;
  while (!d.halt.aborted && (await d.scripts.redis.exists(key))) {
    if (monotonicMs() > deadline) {
      throw new ConfigError(`node id ${id} is in use by a live node (its heartbeat is being renewed): give each process its own --node-id, or drop --fixed-node-id`);
    }
    if (!logged) d.log.warn('fixed node id still has a live heartbeat; waiting for it to expire', { node: id, ttl_ms: await d.scripts.redis.pttl(key) });
    logged = true;
    await sleep(Math.min(200, d.config.heartbeatInterval), d.halt);
  }
  if (d.halt.aborted) return;
  const r = await d.reaper.reapNode(id, true, true);
  if (r.moved + r.buried > 0) d.log.warn("handed back jobs left by this fixed node id's earlier run", { node: id, requeued: r.moved, dead: r.buried });
}
