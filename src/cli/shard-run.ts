// Operator commands in the Redis Cluster layout (docs/redis-cluster.md): an admin command runs once
// per queue world, each run on a connection pinned to that world's master. withAdmin (outside a
// run) finds the worlds and throws ShardedCommand; main runs the whole command again inside each
// world (runPerShard): a human reader gets a section per world, `--json` one object keyed by queue.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Config } from '../config/schema.js';
import { worldPrefix } from '../config/shard-worlds.js';
import { clusterMasters } from '../redis/connection.js';
import { scanWorlds } from '../api/shard-worlds.js';
import { paint, collectJson } from './render.js';

/** The world a command is running in (undefined: not inside a per-shard run). */
export const currentShard = new AsyncLocalStorage<string>();

/** Thrown by withAdmin when the config selects the cluster layout: the command must run per world. */
export class ShardedCommand extends Error {
  constructor(readonly worlds: string[]) {
    super('an admin command in the Redis Cluster layout runs once per queue world');
  }
}

/** The prefix of the world the command runs in. */
export function shardPrefix(config: Readonly<Config>): string {
  const q = currentShard.getStore();
  return q === undefined ? config.prefix : worldPrefix(config.prefix, q);
}

/**
 * The worlds an admin command runs in: every world found on the cluster's masters (its queue set,
 * node registry, schedule, retry or dead set), sorted by name; none found: the configured queues.
 */
export async function worldsForCommand(config: Readonly<Config>): Promise<string[]> {
  const masters = await clusterMasters(config.redisUrl, { commandTimeoutMs: config.redisCommandTimeout });
  const found = await scanWorlds(config.redisUrl, config.prefix, masters);
  return (found.length ? found : config.queues.map((q) => q.name)).sort();
}

/** Runs `run` once inside each world; JSON output is gathered into one object keyed by queue. */
export async function runPerShard(worlds: string[], json: boolean, run: () => Promise<void>): Promise<void> {
  const gathered: Record<string, unknown> = {};
  for (const q of worlds) {
    if (!json) process.stdout.write(`${paint.bold(`── shard {${q}} ──`)}\n`);
    const out = await collectJson(json, () => currentShard.run(q, run));
    if (json) gathered[q] = out.length === 1 ? out[0] : out;
    else process.stdout.write('\n');
  }
  if (json) process.stdout.write(`${JSON.stringify({ shards: gathered }, null, 2)}\n`);
}
