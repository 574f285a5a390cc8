// Rules across config keys: combinations that each pass on their own but cannot work together.
// Each rule's message says why and how to fix it. A new rule goes here, with its reason.
import type { Config } from './schema.js';
import { ConfigError } from '../util/errors.js';
import { MAX_TIMER_MS, MAX_TIMER_TEXT } from '../util/duration.js';

/** How often the supervisor pings its worker processes (the hang check runs on this beat). */
export const workerPingInterval = (c: Pick<Config, 'heartbeatInterval'>): number => Math.min(c.heartbeatInterval, 1000);

/** Head-room for the few seconds the stop watchdogs add to shutdownTimeout + killGrace. */
const STOP_MARGIN_MS = 10_000;

export function crossCheck(c: Config): void {
  if (c.heartbeatInterval * 3 > c.nodeTtl) {
    throw new ConfigError(
      `\`heartbeatInterval\` (${c.heartbeatInterval}ms) must be at most a third of \`nodeTtl\` (${c.nodeTtl}ms): ` +
        `a node's key expires nodeTtl after its last successful renewal, and three beats per TTL leave room for one slow or ` +
        `failed beat and a whole interval more before a live node expires and its running jobs are reaped; set --node-ttl to at least ${c.heartbeatInterval * 3}ms ` +
        `or --heartbeat-interval to at most ${Math.floor(c.nodeTtl / 3)}ms`,
    );
  }
  const ping = workerPingInterval(c);
  if (c.hangTimeout < 3 * ping) {
    throw new ConfigError(
      `\`hangTimeout\` (${c.hangTimeout}ms) must be at least three worker pings (3 × ${ping}ms): the supervisor pings each ` +
        `worker process every min(heartbeatInterval, 1s) and kills one that has not answered for hangTimeout, so a shorter ` +
        `one kills a healthy worker whose answer is one ping late; set --hang-timeout to at least ${3 * ping}ms`,
    );
  }
  if (c.shutdownTimeout + c.killGrace + STOP_MARGIN_MS > MAX_TIMER_MS) {
    throw new ConfigError(
      `\`shutdownTimeout\` + \`killGrace\` must be ${MAX_TIMER_MS - STOP_MARGIN_MS}ms or less: the stop deadline is one timer of ` +
        `their sum plus a few seconds, and a timer must be ${MAX_TIMER_TEXT} (Node fires a longer one at once); shorten --shutdown-timeout`,
    );
  }
  if (c.durability === 'replicated' && c.durabilityTimeout * 2 > c.redisCommandTimeout) {
    throw new ConfigError(
      `\`durabilityTimeout\` (${c.durabilityTimeout}ms) must be at most half of \`redisCommandTimeout\` (${c.redisCommandTimeout}ms): a WAIT blocks ` +
        `the commands behind it on its connection up to durabilityTimeout, and a command without a reply for redisCommandTimeout drops ` +
        `the connection as dead; set --durability-timeout to at most ${Math.floor(c.redisCommandTimeout / 2)}ms or raise --redis-command-timeout`,
    );
  }
  if (c.fixedNodeId && !c.nodeId) {
    throw new ConfigError('`fixedNodeId` needs `nodeId` (--node-id ID or VERK_NODE_ID)');
  }
  if (c.fixedNodeId && c.processes > 1) {
    throw new ConfigError('`fixedNodeId` runs one node with that id: set `processes` to 1 (--processes 1)');
  }
}
