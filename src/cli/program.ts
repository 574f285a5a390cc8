// The commander program: one subcommand per file under commands/.
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerWork } from './commands/work.js';
import { registerEnqueue } from './commands/enqueue.js';

export function buildProgram(): Command {
  const program = new Command('verk')
    .description('Run and operate background job workers on Redis (verk/Sidekiq compatible).')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run `verk --help` for usage)')
    .configureOutput({ outputError: (str, write) => write(str) });
  registerWork(program);
  registerEnqueue(program);
  return program;
}
