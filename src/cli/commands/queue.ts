// `verk queue list|delete|clear <queue>`: the jobs waiting in one queue (src/api/queue-entries.ts).
// list shows them in fetch order (the next job first); delete removes jobs by jid (the exact
// stored bytes, LREM); clear empties the queue as Sidekiq's Queue#clear. delete/clear take --dry-run.
import type { Command } from 'commander';
import { clearQueue, deleteQueueJobs, listQueueEntries, type QueueChange } from '../../api/queue-entries.js';
import { redisNow } from '../../api/admin-context.js';
import { QUEUE_NAME } from '../../api/names.js';
import { EXIT, UsageError } from '../../util/errors.js';
import { withAdmin } from '../admin-session.js';
import { withConnectionOptions } from '../options.js';
import { paint, printJson, printTable } from '../render.js';
import { relative, truncate } from '../time-format.js';

export function registerQueue(program: Command): void {
  const parent = program.command('queue').description('the jobs waiting in one queue: list, delete, clear');
  withConnectionOptions(parent.command('list'))
    .description('list the jobs waiting in a queue, the next to be fetched first')
    .argument('<queue>', 'queue name')
    .option('--limit <n>', 'show at most n jobs (default 50, 0 = up to 100000)')
    .option('--json', 'print {"queue","size","count","entries":[…]} (see docs/cli.md)')
    .action(async (queue: string, opts: Record<string, unknown>) => {
      checkQueue(queue);
      const limit = parseLimit(opts.limit, 50);
      const { size, entries, now } = await withAdmin(opts, async (ctx) => ({ ...(await listQueueEntries(ctx, queue, limit)), now: await redisNow(ctx.redis) }));
      if (opts.json) return printJson({ queue, size, count: entries.length, entries });
      if (entries.length === 0) return void process.stdout.write(`queue ${queue} is empty\n`);
      printTable(
        ['#', 'JID', 'CLASS', 'ARGS', 'ENQUEUED'],
        entries.map((e) => [e.position, e.jid, e.class ?? paint.red('(malformed)'), truncate(e.args, 60), relative(e.enqueued_at, now)]),
      );
      process.stdout.write(paint.dim(`${entries.length} of ${size} jobs in queue ${queue} (# 0 is fetched next)`) + '\n');
    });
  withConnectionOptions(parent.command('delete'))
    .description('delete jobs from a queue by jid (every copy of the exact stored payload)')
    .argument('<queue>', 'queue name')
    .argument('<jids...>', 'job ids (`verk queue list` shows them)')
    .option('--dry-run', 'show what would be deleted, delete nothing')
    .option('--json', 'print {"queue","action","dry_run","matched","done","jids","missing"}')
    .action(async (queue: string, jids: string[], opts: Record<string, unknown>) => {
      checkQueue(queue);
      const res = await withAdmin(opts, (ctx) => deleteQueueJobs(ctx, queue, jids, Boolean(opts.dryRun)));
      report(res, Boolean(opts.json));
      if (res.missing.length) {
        process.stderr.write(`verk: not found in queue ${queue}: ${res.missing.join(', ')}\n`);
        process.exitCode = EXIT.runtime;
      }
    });
  withConnectionOptions(parent.command('clear'))
    .description('delete every job waiting in a queue (and drop it from `queues`, as Sidekiq does)')
    .argument('<queue>', 'queue name')
    .option('--dry-run', 'show how many jobs would be deleted')
    .option('--json', 'print {"queue","action","dry_run","matched","done","jids"}')
    .action(async (queue: string, opts: Record<string, unknown>) => {
      checkQueue(queue);
      report(await withAdmin(opts, (ctx) => clearQueue(ctx, queue, Boolean(opts.dryRun))), Boolean(opts.json));
    });
}

function checkQueue(queue: string): void {
  if (!QUEUE_NAME.test(queue)) throw new UsageError(`queue ${JSON.stringify(queue)}: use letters, digits, _ . - only`);
}

function parseLimit(v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(String(v))) throw new UsageError(`--limit ${v}: use a whole number (0 = no limit)`);
  return Number(v);
}

function report(res: QueueChange, json: boolean): void {
  if (json) {
    printJson(res);
    return;
  }
  const jobs = (n: number) => `${n} job${n === 1 ? '' : 's'}`;
  if (res.dry_run) process.stdout.write(`dry run: would ${res.action} ${jobs(res.matched)} of queue ${res.queue}\n`);
  else process.stdout.write(`${res.action === 'clear' ? 'cleared' : 'deleted'} ${jobs(res.done)} of queue ${res.queue}\n`);
  for (const j of res.jids) process.stdout.write(`  ${j}\n`);
}
