// Runs one admin command: resolves the config from the command's connection options, opens an
// admin connection (fails rather than hangs when Redis is unreachable, refuses a database the
// server does not have before anything is written) and always closes it.
import type { LoadedConfig } from '../config/load.js';
import { openCheckedAdmin, type AdminContext } from '../api/admin-context.js';
import { loadForCommand } from './options.js';
import { isClusterUrl } from '../config/shard-worlds.js';
import { currentShard, shardPrefix, ShardedCommand, worldsForCommand } from './shard-run.js';

/** Loads the config from the command's connection options, opens an admin connection, runs `fn`, closes. */
export async function withAdmin<T>(opts: Record<string, unknown>, fn: (admin: AdminContext, loaded: LoadedConfig) => Promise<T>): Promise<T> {
  const loaded = await loadForCommand({ config: opts.config, redisUrl: opts.redisUrl, prefix: opts.prefix });
  // The Redis Cluster layout: the command runs again inside each queue world (src/cli/shard-run.ts).
  if (isClusterUrl(loaded.config.redisUrl) && currentShard.getStore() === undefined) throw new ShardedCommand(await worldsForCommand(loaded.config));
  const admin = await openCheckedAdmin({ redisUrl: loaded.config.redisUrl, prefix: shardPrefix(loaded.config), sentinelPassword: loaded.config.sentinelPassword });
  try {
    return await fn(admin, loaded);
  } finally {
    await admin.close();
  }
}
