// `verk work`: loads the config, starts the supervisor and its worker processes, and turns
// signals into quiet (TSTP) and graceful stop (TERM/INT; a second one hands jobs back at once).
import type { Command } from 'commander';
import { withConnectionOptions, withWorkerOptions, loadForCommand } from '../options.js';
import { Supervisor } from '../../runner/supervisor.js';
import { startHealthServer } from '../../runner/health-server.js';
import { createLogger } from '../../util/logger.js';
import { logFormatOf } from '../../runner/log-format.js';
import { redactUrl } from '../../util/redact.js';

/** How long past shutdownTimeout a stuck shutdown may run before the process exits anyway. */
const SHUTDOWN_OVERRUN_MS = 4_000;

export function registerWork(program: Command): void {
  // Every config key has its flag, generated from the declaration in src/config/defaults.ts.
  withWorkerOptions(withConnectionOptions(program.command('work')))
    .description('run workers: fetch jobs from the queues and run their handlers')
    .action(async (opts: Record<string, unknown>) => {
      const { config, file } = await loadForCommand(opts, true);
      const log = createLogger({ level: config.logLevel, format: logFormatOf(config) }, { pid: process.pid });
      log.info('configuration loaded', { file: file ?? '(none)', redis: redactUrl(config.redisUrl), handlers: config.handlers });
      const supervisor = new Supervisor(config, log);
      if (config.healthPort > 0) {
        await startHealthServer(supervisor, config.healthPort, log).catch((err: Error) => {
          throw new Error(`health server could not listen on port ${config.healthPort} (--health-port / healthPort): ${err.message}`);
        });
      }
      let watchdog: NodeJS.Timeout | undefined;
      const stop = () => {
        // Last resort (Redis unreachable during shutdown): exit before the platform's grace period
        // (shutdownTimeout + 5 s) runs out; the jobs still held are recovered by peers after the TTL.
        watchdog ??= setTimeout(() => {
          log.error('shutdown did not finish in time (is Redis reachable?); exiting; peers recover the held jobs after the node TTL', { after_ms: config.shutdownTimeout + SHUTDOWN_OVERRUN_MS });
          for (const c of supervisor.children.values()) c.proc.kill('SIGKILL');
          process.exit(1);
        }, config.shutdownTimeout + SHUTDOWN_OVERRUN_MS);
        void supervisor.stop().then(() => process.exit(0));
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      process.on('SIGTSTP', () => supervisor.quiet());
      await supervisor.start();
    });
}
