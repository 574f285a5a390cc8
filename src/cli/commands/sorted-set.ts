// The subcommands shared by `verk retry`, `verk dead` and `verk schedule`: list, requeue,
// kill (retry/schedule to dead), delete, clear. Entries are selected by jid, --queue, --class or --all, with --limit;
// every change can be a --dry-run. The API does the work (src/api/entries.ts, sorted-actions.ts).
import type { Command } from 'commander';
import type { AdminContext } from '../../api/admin-context.js';
import { redisNow } from '../../api/admin-context.js';
import { selectEntries, toRow, type EntryRow, type Selector, type SetName } from '../../api/entries.js';
import { clearSet, deleteEntries, killEntries, requeueEntries, type ActionResult, type DeadBounds } from '../../api/sorted-actions.js';
import { EXIT, UsageError } from '../../util/errors.js';
import { withAdmin } from '../admin-session.js';
import { withConnectionOptions } from '../options.js';
import { paint, printJson, printTable } from '../render.js';
import { startSpinner } from '../spinner.js';
import { relative, truncate } from '../time-format.js';

export type Action = 'list' | 'requeue' | 'kill' | 'delete' | 'clear';
type Change = 'requeue' | 'kill' | 'delete';

const DESCRIBE: Record<Change, (set: SetName) => string> = {
  requeue: (set) => `move ${set} entries back to their queues now (fresh enqueued_at; idempotent)`,
  kill: (set) => `move ${set} entries to the dead set as they are (Sidekiq's Kill; idempotent)`,
  delete: (set) => `delete ${set} entries`,
};

const WHAT: Record<SetName, string> = { retry: 'jobs waiting to be retried', dead: 'jobs that ran out of retries', schedule: 'jobs scheduled for later' };

export function registerSortedSet(program: Command, set: SetName, actions: Action[]): void {
  const parent = program.command(set).description(`manage the ${set} set (${WHAT[set]}): ${actions.join(', ')}`);
  if (actions.includes('list')) {
    selectOptions(withConnectionOptions(parent.command('list')), false)
      .description(`list ${set} entries: class, args (truncated), error, retry count, times`)
      .option('--json', 'print {"set","total","count","entries":[…]} (see docs/cli.md)')
      .action(async (jids: string[], opts: Record<string, unknown>) => {
        const sel = selector(jids, opts, 50);
        const { entries, total, now } = await withAdmin(opts, async (ctx) => ({ ...(await selectEntries(ctx, set, sel)), now: await redisNow(ctx.redis) }));
        const rows = entries.map(toRow);
        if (opts.json) return printJson({ set, total, count: rows.length, entries: rows });
        printList(set, rows, total, now);
      });
  }
  for (const action of ['requeue', 'kill', 'delete'] as const) {
    if (!actions.includes(action)) continue;
    selectOptions(withConnectionOptions(parent.command(action)), true)
      .description(DESCRIBE[action](set))
      .option('--dry-run', 'show what would change, change nothing')
      .option('--json', 'print {"set","action","dry_run","matched","done","jids","skipped","missing"}')
      .action(async (jids: string[], opts: Record<string, unknown>) => {
        const sel = selector(jids, opts, 0);
        if (!jids.length && sel.queue === undefined && sel.className === undefined && !opts.all) {
          throw new UsageError(`name the entries: jids, --queue, --class or --all (e.g. verk ${set} ${action} --all --dry-run)`);
        }
        const res = await withAdmin(opts, (ctx, loaded) => act(ctx, set, action, sel, Boolean(opts.dryRun), !opts.json, loaded.config));
        report(res, jids, Boolean(opts.json));
      });
  }
  if (actions.includes('clear')) {
    withConnectionOptions(parent.command('clear'))
      .description(`delete every entry of ${set}`)
      .option('--dry-run', 'show how many entries would be deleted')
      .option('--json', 'print {"set","action","dry_run","matched","done","jids","skipped","missing"}')
      .action(async (opts: Record<string, unknown>) => {
        const res = await withAdmin(opts, (ctx) => clearSet(ctx, set, Boolean(opts.dryRun)));
        report(res, [], Boolean(opts.json));
      });
  }
}

function selectOptions(cmd: Command, allowAll: boolean): Command {
  cmd
    .argument('[jids...]', 'job ids to select')
    .option('--queue <name>', 'only entries of this queue')
    .option('--class <name>', 'only entries of this job class')
    .option('--limit <n>', allowAll ? 'act on at most n entries' : 'show at most n entries (default 50, 0 = all)');
  if (allowAll) cmd.option('--all', 'every entry (with --queue/--class: every matching entry)');
  return cmd;
}

function selector(jids: string[], opts: Record<string, unknown>, defaultLimit: number): Selector {
  if (opts.all && jids.length) throw new UsageError('name jids or use --all, not both');
  let limit = defaultLimit;
  if (opts.limit !== undefined) {
    if (!/^\d+$/.test(String(opts.limit))) throw new UsageError(`--limit ${opts.limit}: use a whole number (0 = no limit)`);
    limit = Number(opts.limit);
  }
  return { jids, queue: opts.queue as string | undefined, className: opts.class as string | undefined, limit };
}

async function act(ctx: AdminContext, set: SetName, action: Change, sel: Selector, dryRun: boolean, spin: boolean, bounds: DeadBounds): Promise<ActionResult> {
  const spinner = startSpinner(`selecting ${set} entries…`, spin);
  try {
    const { entries } = await selectEntries(ctx, set, sel);
    const progress = (done: number, of: number) => spinner.update(`${action}: ${done}/${of}`);
    if (action === 'kill') {
      if (set === 'dead') throw new UsageError('dead entries are dead already: requeue or delete them');
      return await killEntries(ctx, set, entries, bounds, dryRun, progress);
    }
    return await (action === 'requeue' ? requeueEntries : deleteEntries)(ctx, set, entries, dryRun, progress);
  } finally {
    spinner.stop();
  }
}

function printList(set: SetName, rows: EntryRow[], total: number, now: number): void {
  if (rows.length === 0) return void process.stdout.write(total ? `no matching entries in ${set} (${total} in all)\n` : `${set} is empty\n`);
  const head = ['JID', 'CLASS', 'QUEUE', 'ARGS'];
  const base = (r: EntryRow) => [r.jid, r.class ?? paint.red('(malformed)'), r.queue ?? '-', truncate(r.args, 40)];
  if (set === 'schedule') {
    printTable(
      [...head, 'RUN AT', 'CREATED'],
      rows.map((r) => [...base(r), relative(r.at, now), relative(r.created_at, now)]),
      { drop: ['QUEUE', 'CREATED'] },
    );
  } else {
    printTable(
      [...head, 'ERROR', 'RETRIES', 'FAILED', set === 'retry' ? 'NEXT RETRY' : 'DIED'],
      rows.map((r) => [
        ...base(r),
        paint.red(truncate([r.error_class, r.error_message].filter(Boolean).join(': '), 50)),
        r.retry_count ?? '-',
        relative(r.retried_at ?? r.failed_at, now),
        relative(r.at, now),
      ]),
      { drop: ['QUEUE', 'RETRIES', 'FAILED'] },
    );
  }
  process.stdout.write(paint.dim(`${rows.length} of ${total} entries in ${set}`) + '\n');
}

function report(res: ActionResult, named: string[], json: boolean): void {
  const found = new Set(res.jids);
  const missing = named.filter((j) => !found.has(j));
  if (json) printJson({ ...res, missing });
  else {
    const verb = { requeue: 'requeued', kill: 'moved to dead', delete: 'deleted', clear: 'deleted' }[res.action];
    if (res.dry_run) process.stdout.write(`dry run: would ${res.action} ${res.matched} entr${res.matched === 1 ? 'y' : 'ies'} of ${res.set}\n`);
    else process.stdout.write(`${verb} ${res.done} of ${res.matched} selected entr${res.matched === 1 ? 'y' : 'ies'} of ${res.set}\n`);
    for (const j of res.jids.slice(0, 100)) process.stdout.write(`  ${j}\n`);
    if (res.jids.length > 100) process.stdout.write(paint.dim(`  … and ${res.jids.length - 100} more (use --json for all)`) + '\n');
    for (const s of res.skipped) process.stdout.write(paint.yellow(`  skipped ${s.jid}: ${s.reason}`) + '\n');
  }
  if (missing.length) {
    process.stderr.write(`verk: not found in ${res.set}: ${missing.join(', ')}\n`);
    process.exitCode = EXIT.runtime;
  }
}
