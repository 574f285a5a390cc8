// `verk recoveries [--limit N] [--json]`: the recovery history (verk:recoveries, newest first):
// when, who reaped, which node died, jobs requeued and sent to dead (src/api/recoveries.ts).
// JSON shape: docs/cli-nodes.md.
import type { Command } from 'commander';
import { listRecoveries } from '../../api/recoveries.js';
import { UsageError } from '../../util/errors.js';
import { withConnectionOptions } from '../options.js';
import { printJson, printTable } from '../render.js';
import { BLANK, time } from '../human.js';
import { withAdmin } from '../admin-session.js';

export function registerRecoveries(program: Command): void {
  withConnectionOptions(program.command('recoveries'))
    .description('history of dead-node recoveries: when, by whom, from which node, which jobs')
    .option('--limit <n>', 'newest events to show', '100')
    .option('--json', 'print the result as JSON')
    .action(async (opts: Record<string, unknown>) => {
      const limit = String(opts.limit);
      if (!/^\d+$/.test(limit)) throw new UsageError(`--limit ${JSON.stringify(limit)}: use a whole number`);
      const report = await withAdmin(opts, (admin) => listRecoveries(admin.redis, admin.keys, Number(limit)));
      if (opts.json) return printJson(report);
      if (report.total === 0) return void process.stdout.write('no recoveries recorded\n');
      printTable(
        ['AT', 'BY', 'NODE', 'REQUEUED', 'DEAD', 'QUEUES', 'JIDS', 'DEAD JIDS'],
        report.events.map((e) => [
          time(e.at_iso),
          e.by,
          e.node,
          e.moved,
          e.dead,
          Object.entries(e.queues)
            .map(([q, n]) => `${q}:${n}`)
            .join(',') || BLANK,
          short(e.jids),
          short(e.dead_jids),
        ]),
      );
      const shown = report.events.length;
      process.stdout.write(`\n${shown} of ${report.total} events${report.unreadable ? ` (${report.unreadable} unreadable skipped)` : ''}\n`);
    });
}

function short(jids: string[]): string {
  if (jids.length === 0) return BLANK;
  return jids.length <= 2 ? jids.join(',') : `${jids.slice(0, 2).join(',')} +${jids.length - 2}`;
}
