// `verk unique why <key> [--json]`: a unique lock's holder, where the holder is now (queue, in
// progress on node X, claimed, retry, schedule, dead, nowhere, or cannot tell), since when and
// until what; `verk unique list [--limit N] [--json]`: the locks, oldest first, and the sweeper's
// releases (src/api/unique.ts, docs/unique-jobs.md). why exits 1 when no lock has that key.
import type { Command } from 'commander';
import { listUnique, whyUnique, type UniqueWhyReport } from '../../api/unique.js';
import { EXIT, UsageError } from '../../util/errors.js';
import { withAdmin } from '../admin-session.js';
import { BLANK, time } from '../human.js';
import { withConnectionOptions } from '../options.js';
import { printJson, printTable } from '../render.js';

const WHERE: Record<string, string> = {
  queue: 'waiting in its queue',
  parked: 'parked behind its limit key (docs/limits.md)',
  inprogress: 'in progress',
  claim: 'being claimed',
  retry: 'waiting to be retried',
  schedule: 'scheduled',
  dead: 'dead (the lock should have gone with it: the sweeper releases it)',
  unknown: 'not found within the search bound (a long queue or set): kept',
  nowhere: 'nowhere: an orphan lock (the sweeper releases it)',
};

export function registerUnique(program: Command): void {
  const cmd = program.command('unique').description('unique-job locks: who holds a key, where that job is (docs/unique-jobs.md)');
  withConnectionOptions(cmd.command('why'))
    .description('who holds a unique lock, where that job is now, since when and until what')
    .argument('<key>', "the lock's key (as the handler's unique.key gives it)")
    .option('--json', 'print the result as JSON')
    .action(async (key: string, opts: Record<string, unknown>) => {
      if (key === '') throw new UsageError('the key must not be empty');
      const r = await withAdmin(opts, (admin) => whyUnique(admin, key));
      if (r.holder === null) process.exitCode = EXIT.runtime;
      if (opts.json) return printJson(r);
      process.stdout.write(describe(r));
    });
  withConnectionOptions(cmd.command('list'))
    .description('unique locks, oldest first (bounded), and the sweeper’s latest releases')
    .option('--limit <n>', 'locks to show', '100')
    .option('--json', 'print the result as JSON')
    .action(async (opts: Record<string, unknown>) => {
      const limit = String(opts.limit);
      if (!/^\d+$/.test(limit) || Number(limit) < 1) throw new UsageError(`--limit ${JSON.stringify(limit)}: use a whole number from 1`);
      const r = await withAdmin(opts, (admin) => listUnique(admin, Number(limit)));
      if (opts.json) return printJson(r);
      if (r.locks.length === 0) process.stdout.write('no unique locks\n');
      else {
        printTable(
          ['KEY', 'HOLDER', 'SINCE', 'UNTIL', 'QUEUE'],
          r.locks.map((l) => [l.key, l.holder ?? BLANK, time(l.since_iso), l.until ?? BLANK, l.queue ?? BLANK]),
        );
        process.stdout.write(`\n${r.locks.length} of ${r.total} locks\n`);
      }
      process.stdout.write(`${r.swept} released by the sweeper in all\n`);
    });
}

function describe(r: UniqueWhyReport): string {
  if (r.holder === null) return `no unique lock ${JSON.stringify(r.key)}: an enqueue with this key goes in\n`;
  const where =
    r.where === 'inprogress' || r.where === 'claim'
      ? `${WHERE[r.where]} on node ${r.node}`
      : r.where === 'parked'
        ? `${WHERE.parked} ${r.node}`
        : (WHERE[r.where] ?? r.where);
  const rows = [
    ['key', r.key],
    ['holder', r.holder],
    ['where', where],
    ['since', r.since_iso ?? BLANK],
    ['until', r.until === 'ttl' && r.ttlMs !== null ? `ttl (expires in ${Math.ceil(r.ttlMs / 1000)}s)` : (r.until ?? BLANK)],
    ['queue', r.queue ?? BLANK],
  ];
  return rows.map(([k, v]) => `${k.padEnd(8)}${v}`).join('\n') + '\n';
}
