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
import { redactText } from '../util/redact.js';

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

/**
 * Runs `run` once inside each world; JSON output is gathered into one object keyed by queue. A
 * world where the command fails or finds nothing (a jid, key or node that lives in another
 * world: an error, or exit code 1) is noted in its section (or as {"error"} in the JSON) and the
 * others still run; the command fails only when it failed in every world, with the first
 * world's error or code. (So jobs of two worlds named in one command are each missing in the
 * other: name them per queue.)
 */
export async function runPerShard(worlds: string[], json: boolean, run: () => Promise<void>): Promise<void> {
  const gathered: Record<string, unknown> = {};
  let firstError: unknown;
  let firstCode: number | undefined;
  let succeeded = 0;
  for (const q of worlds) {
    if (!json) process.stdout.write(`${paint.bold(`── shard {${q}} ──`)}\n`);
    try {
      process.exitCode = undefined;
      const out = await collectJson(json, () => currentShard.run(q, run));
      if (json) gathered[q] = out.length === 1 ? out[0] : out;
      // A command reports "not found" (a jid, key or node of another world) by its exit code.
      if (!process.exitCode) succeeded++;
      else firstCode ??= Number(process.exitCode);
    } catch (err) {
      firstError ??= err;
      const message = redactText((err as Error)?.message ?? String(err));
      if (json) gathered[q] = { error: message };
      else process.stdout.write(`${paint.dim(`(in this shard: ${message})`)}\n`);
    }
    if (!json) process.stdout.write('\n');
  }
  process.exitCode = succeeded > 0 ? undefined : firstCode;
  if (succeeded === 0 && firstError !== undefined && firstCode === undefined) throw firstError;
  if (json) process.stdout.write(`${JSON.stringify({ shards: gathered }, null, 2)}\n`);
}
