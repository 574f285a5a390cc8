// The commander program: one subcommand per file under commands/.
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerWork } from './commands/work.js';
import { registerEnqueue } from './commands/enqueue.js';
import { registerQueues } from './commands/queues.js';
import { registerStats } from './commands/stats.js';
import { registerRetry } from './commands/retry.js';
import { registerDead } from './commands/dead.js';
import { registerSchedule } from './commands/schedule.js';
import { registerPause } from './commands/pause.js';
import { registerControl } from './commands/control.js';
import { registerNodes } from './commands/nodes.js';
import { registerRequeueDead } from './commands/requeue-dead.js';
import { registerStuck } from './commands/stuck.js';
import { registerRecoveries } from './commands/recoveries.js';
import { registerInit } from './commands/init.js';
import { registerProcesses } from './commands/processes.js';
import { registerShow } from './commands/show.js';
import { registerQueue } from './commands/queue.js';
import { registerCron } from './commands/cron.js';
import { registerLimits } from './commands/limits.js';
import { registerWeb } from './commands/web.js';
import { registerScaleHint } from './commands/scale-hint.js';
import { registerUnique } from './commands/unique.js';

export function buildProgram(): Command {
  const program = new Command('verk')
    .description('Run and operate background job workers on Redis (verk/Sidekiq compatible).')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run `verk --help` for usage)')
    .configureOutput({ outputError: (str, write) => write(str) });
  registerWork(program);
  registerEnqueue(program);
  registerQueues(program);
  registerStats(program);
  registerRetry(program);
  registerDead(program);
  registerSchedule(program);
  registerPause(program);
  registerControl(program);
  registerNodes(program);
  registerRequeueDead(program);
  registerStuck(program);
  registerRecoveries(program);
  registerInit(program);
  registerProcesses(program);
  registerShow(program);
  registerQueue(program);
  registerCron(program);
  registerLimits(program);
  registerWeb(program);
  registerScaleHint(program);
  registerUnique(program);
  return program;
}
