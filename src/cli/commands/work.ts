// `verk work`: loads the config and runs the supervisor with its health server and signal
// handling (src/runner/run-work.ts), and the web dashboard beside it with --web-port (src/web).
import type { Command } from 'commander';
import { withConnectionOptions, withWorkerOptions, loadForCommand } from '../options.js';
import { runWork } from '../../runner/run-work.js';
import { createLogger } from '../../util/logger.js';
import { logFormatOf } from '../../runner/log-format.js';
import { redactUrl } from '../../util/redact.js';
import { startWebServer } from '../../web/server.js';

export function registerWork(program: Command): void {
  // Every config key has its flag, generated from the declaration in src/config/defaults.ts.
  withWorkerOptions(withConnectionOptions(program.command('work')))
    .description('run workers: fetch jobs from the queues and run their handlers')
    .action(async (opts: Record<string, unknown>) => {
      const { config, file } = await loadForCommand(opts, true);
      const log = createLogger({ level: config.logLevel, format: logFormatOf(config) }, { pid: process.pid });
      log.info('configuration loaded', { file: file ?? '(none)', redis: redactUrl(config.redisUrl), handlers: config.handlers });
      // The dashboard first: a bad --web-port or missing credentials stop before any worker starts.
      const web = config.webPort > 0 ? await startWebServer(config, config.webPort, log.child({ part: 'web' })) : undefined;
      await runWork(config, log).catch(async (err: unknown) => {
        await web?.close();
        throw err;
      });
    });
}
