// `verk work` as a whole: refuses conflicting handler files, then the supervisor, its health
// server (when healthPort > 0) and its signal handlers, started in that order so that a signal
// during start-up stops it cleanly.
import type { Config } from '../config/schema.js';
import { findHandlerConflicts, handlerConflictError } from '../core/handlers.js';
import type { Logger } from '../util/logger.js';
import { startHealthServer } from './health-server.js';
import { handleSignals } from './signals.js';
import { Supervisor } from './supervisor.js';

export async function runWork(config: Readonly<Config>, log: Logger): Promise<Supervisor> {
  // Two handler files for one class: refuse before any worker process starts (exit 78).
  const conflict = handlerConflictError(findHandlerConflicts(config.handlers));
  if (conflict) throw conflict;
  const supervisor = new Supervisor(config as Config, log);
  if (config.healthPort > 0) {
    await startHealthServer(supervisor, config.healthPort, log).catch((err: Error) => {
      throw new Error(`health server could not listen on port ${config.healthPort} (--health-port / healthPort): ${err.message}`);
    });
  }
  handleSignals(supervisor, log);
  await supervisor.start();
  return supervisor;
}
