// `verk work`: loads the config and runs the supervisor with its health server and signal
// handling (src/runner/run-work.ts).
import type { Command } from 'commander';
import { withConnectionOptions, loadForCommand } from '../options.js';
import { runWork } from '../../runner/run-work.js';
import { createLogger } from '../../util/logger.js';
import { logFormatOf } from '../../runner/log-format.js';
import { redactUrl } from '../../util/redact.js';

export function registerWork(program: Command): void {
  withConnectionOptions(program.command('work'))
    .description('run workers: fetch jobs from the queues and run their handlers')
    .option('-q, --queues <list>', 'queues with per-process concurrency, e.g. default:10,mail:5')
    .option('-p, --processes <n>', 'worker processes (default: one per CPU core)')
    .option('--handlers <dir>', 'directory of job handler modules (default ./jobs)')
    .option('--node-id <id>', 'base of node ids (default: hostname / pod name; env VERK_NODE_ID)')
    .option('--fixed-node-id', 'use --node-id as the exact node id (verk mode A; one process)')
    .option('--heartbeat-interval <duration>', 'how often each node renews its heartbeat (default 5s)')
    .option('--node-ttl <duration>', 'a node silent this long is dead and reaped (default 20s)')
    .option('--reaper-interval <duration>', 'how often to look for dead nodes (default 5s, jittered)')
    .option('--max-recoveries <n>', 'recoveries of one job before it goes to dead (default 3)')
    .option('--hang-timeout <duration>', 'kill a worker process whose event loop is stuck this long (default 2m)')
    .option('--shutdown-timeout <duration>', 'how long SIGTERM waits for running jobs (default 25s)')
    .option('--kill-grace <duration>', 'time a timed-out job gets to honour its abort (default 5s)')
    .option('--job-timeout <duration>', 'default job timeout (default none)')
    .option('--scheduler-interval <duration>', 'how often due scheduled/retry jobs are moved (default 1s)')
    .option('--health-port <port>', 'serve /livez, /readyz and /metrics on this port (default off)')
    .option('--log-level <level>', 'debug, info, warn, error or silent')
    .option('--log-format <format>', 'json, pretty or auto (pretty on a TTY)')
    .action(async (opts: Record<string, unknown>) => {
      const { config, file } = await loadForCommand(opts, true);
      const log = createLogger({ level: config.logLevel, format: logFormatOf(config) }, { pid: process.pid });
      log.info('configuration loaded', { file: file ?? '(none)', redis: redactUrl(config.redisUrl), handlers: config.handlers });
      await runWork(config, log);
    });
}
