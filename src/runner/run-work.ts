// `verk work` as a whole: refuses conflicting handler files, then the supervisor (one per queue
// world in the Redis Cluster layout: shard-group.ts), its health
// server (when healthPort > 0) and its signal handlers, started in that order so that a signal
// during start-up stops it cleanly.
import type { Config } from '../config/schema.js';
import { findHandlerConflicts, handlerConflictError } from '../core/handlers.js';
import type { Logger } from '../util/logger.js';
import { startHealthServer } from './health-server.js';
import { handleSignals } from './signals.js';
import { isClusterUrl, worldsOf } from '../config/shard-worlds.js';
import { ShardGroup } from './shard-group.js';
import { Supervisor } from './supervisor.js';

export async function runWork(config: Readonly<Config>, log: Logger): Promise<Supervisor | ShardGroup> {
  // Two handler files for one class: refuse before any worker process starts (exit 78).
  const conflict = handlerConflictError(findHandlerConflicts(config.handlers));
  if (conflict) throw conflict;
  // A redis+cluster:// URL: one supervisor per queue world (docs/redis-cluster.md).
  const supervisor = isClusterUrl(config.redisUrl) ? new ShardGroup(config, worldsOf(config), log) : new Supervisor(config as Config, log);
  if (config.healthPort > 0) {
    await startHealthServer(supervisor, config.healthPort, log).catch((err: Error) => {
      throw new Error(`health server could not listen on port ${config.healthPort} (--health-port / healthPort): ${err.message}`);
    });
  }
  handleSignals(supervisor, log);
  await supervisor.start();
  return supervisor;
}
