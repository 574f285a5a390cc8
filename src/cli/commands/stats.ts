// `verk stats`: processed/failed totals and per queue, queue/retry/schedule/dead sizes, live
// nodes and busy jobs; warnings (an evicting Redis) on stderr, so they never mix into the table.
import type { Command } from 'commander';
import { readStats } from '../../api/stats.js';
import { withAdmin } from '../admin-session.js';
import { withConnectionOptions } from '../options.js';
import { paint, printJson, printTable } from '../render.js';

export function registerStats(program: Command): void {
  withConnectionOptions(program.command('stats'))
    .description('show processed/failed totals and per queue, retry/schedule/dead sizes, nodes alive, jobs busy')
    .option('--json', 'print the totals, {"queues":[{"name","processed","failed","size"}]}, {"redis":{"maxmemory_policy"}} and "warnings" as JSON')
    .action(async (opts: Record<string, unknown>) => {
      const s = await withAdmin(opts, (ctx) => readStats(ctx));
      if (opts.json) return printJson(s);
      const { queues, redis: _redis, warnings, ...totals } = s;
      for (const w of warnings) process.stderr.write(`${paint.yellow('verk: warning:')} ${w}\n`);
      printTable(
        ['TOTAL', 'VALUE'],
        Object.entries(totals).map(([k, v]) => [k, v]),
      );
      if (queues.length === 0) return;
      process.stdout.write('\n');
      printTable(
        ['QUEUE', 'PROCESSED', 'FAILED', 'SIZE'],
        queues.map((q) => [q.name, q.processed, q.failed ? paint.red(String(q.failed)) : 0, q.size]),
      );
    });
}
