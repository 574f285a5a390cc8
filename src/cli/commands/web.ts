// `verk web [--port 7070] [--host 127.0.0.1] [--auth token:<t>] [--read-auth …]`: serves the web
// dashboard (src/web) until SIGTERM/SIGINT. Credentials are better given as VERK_WEB_AUTH /
// VERK_WEB_READ_AUTH than on the command line (other users of the machine can read argv).
import type { Command } from 'commander';
import { helpLine } from '../../config/help.js';
import { startWebServer } from '../../web/server.js';
import { createLogger } from '../../util/logger.js';
import { logFormatOf } from '../../runner/log-format.js';
import { redactUrl } from '../../util/redact.js';
import { loadForCommand, withConnectionOptions } from '../options.js';

export const WEB_DEFAULT_PORT = 7070;

export function registerWeb(program: Command): void {
  withConnectionOptions(program.command('web'))
    .description('serve the web dashboard: fleet, queues, retries, dead, recoveries, live updates')
    .option('--port <port>', `port to listen on (default ${WEB_DEFAULT_PORT})`)
    .option('--host <address>', helpLine('webHost'))
    .option('--auth <spec>', helpLine('webAuth'))
    .option('--read-auth <spec>', helpLine('webReadAuth'))
    .option('--poll-interval <duration>', helpLine('webPollInterval'))
    .option('--log-level <level>', helpLine('logLevel'))
    .action(async (opts: Record<string, unknown>) => {
      const flags: Record<string, unknown> = {
        config: opts.config,
        redisUrl: opts.redisUrl,
        prefix: opts.prefix,
        webPort: opts.port ?? undefined,
        webHost: opts.host,
        webAuth: opts.auth,
        webReadAuth: opts.readAuth,
        webPollInterval: opts.pollInterval,
        logLevel: opts.logLevel,
      };
      const { config } = await loadForCommand(flags);
      const port = opts.port === undefined && config.webPort === 0 ? WEB_DEFAULT_PORT : config.webPort;
      const log = createLogger({ level: config.logLevel, format: logFormatOf(config) }, { pid: process.pid });
      log.info('web dashboard starting', { redis: redactUrl(config.redisUrl) });
      const server = await startWebServer(config, port, log);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      await server.close();
    });
}
