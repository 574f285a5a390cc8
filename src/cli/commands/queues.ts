// `verk queues`: every queue with its size, latency (age of the oldest job) and paused flag, and a
// limited queue's parked jobs (docs/limits.md).
import type { Command } from 'commander';
import { listQueues } from '../../api/queues.js';
import { withAdmin } from '../admin-session.js';
import { withConnectionOptions } from '../options.js';
import { paint, printJson, printTable } from '../render.js';
import { span } from '../time-format.js';

export function registerQueues(program: Command): void {
  withConnectionOptions(program.command('queues'))
    .description('list queues with size, latency (age of the oldest job) and paused state')
    .option('--json', 'print {"queues":[{"name","size","latency","paused"[,"parked"]}]} (parked: limited queues only)')
    .action(async (opts: Record<string, unknown>) => {
      const queues = await withAdmin(opts, (ctx) => listQueues(ctx));
      if (opts.json) return printJson({ queues });
      if (queues.length === 0) return void process.stdout.write('no queues\n');
      // A PARKED column only when a queue has a cluster-wide limit (its parked jobs are not in SIZE).
      const limited = queues.some((q) => q.parked !== undefined);
      printTable(
        ['QUEUE', 'SIZE', ...(limited ? ['PARKED'] : []), 'LATENCY', 'PAUSED'],
        queues.map((q) => [q.name, q.size, ...(limited ? [q.parked ?? '-'] : []), q.size ? span(q.latency) : '-', q.paused ? paint.yellow('paused') : 'no']),
      );
    });
}
