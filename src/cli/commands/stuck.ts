// `verk stuck [--older-than 5m] [--queue Q] [--requeue-orphans] [--json]`: jobs running longer
// than the threshold on live nodes (src/api/stuck.ts) and in-progress lists no registered node
// owns (src/api/orphans.ts); --requeue-orphans hands those lists back to the front of their
// queues, with a warning that they may be live (a bare --requeue is refused: it was too easy to
// run jobs twice). JSON shape: docs/cli-nodes.md.
import { Option, type Command } from 'commander';
import { ORPHAN_REQUEUE_WARNING, orphanLists, requeueOrphans, type OrphanList } from '../../api/orphans.js';
import { stuckJobs, type StuckJob } from '../../api/stuck.js';
import { QUEUE_NAME } from '../../api/names.js';
import { parseDuration } from '../../util/duration.js';
import { UsageError } from '../../util/errors.js';
import { withConnectionOptions } from '../options.js';
import { paint, printJson, printTable } from '../render.js';
import { BLANK, plural, seconds, time } from '../human.js';
import { withAdmin } from '../admin-session.js';

export interface StuckOrphan extends OrphanList {
  /** orphan: found (not requeued); moved: handed back; owned/alive: refused, the node came back. */
  status: 'orphan' | 'moved' | 'owned' | 'alive';
  requeued: number;
}

export interface StuckReport {
  older_than_ms: number;
  queue: string | null;
  jobs: StuckJob[];
  dead_nodes: string[];
  orphans: StuckOrphan[];
  /** Jobs handed back by --requeue-orphans; null without it. */
  requeued: number | null;
  /** Why what was done may be unsafe (the orphan warning when lists were requeued); empty otherwise. */
  warnings: string[];
}

const BARE_REQUEUE = `--requeue is not accepted, because ${ORPHAN_REQUEUE_WARNING} To requeue them anyway, name it: \`verk stuck --requeue-orphans\`.`;

export function registerStuck(program: Command): void {
  withConnectionOptions(program.command('stuck'))
    .description('jobs running too long on live nodes, and in-progress lists no registered node owns')
    .option('--older-than <duration>', 'running at least this long, e.g. 90s, 5m, 1h', '5m')
    .option('--queue <name>', 'only this queue')
    .option(
      '--requeue-orphans',
      'hand the unowned in-progress lists back to the front of their queues (they may be live on a fixed-id Elixir verk node: see the warning)',
    )
    .addOption(new Option('--requeue').hideHelp())
    .option('--json', 'print the result as JSON')
    .action(async (opts: Record<string, unknown>) => {
      if (opts.requeue && !opts.requeueOrphans) throw new UsageError(BARE_REQUEUE);
      let olderThanMs: number;
      try {
        olderThanMs = parseDuration(String(opts.olderThan));
      } catch (err) {
        throw new UsageError(`--older-than: ${(err as Error).message}`);
      }
      const queue = opts.queue as string | undefined;
      if (queue !== undefined && !QUEUE_NAME.test(queue)) throw new UsageError(`--queue ${JSON.stringify(queue)}: use letters, digits, _ . - only`);
      const report = await withAdmin(opts, async (admin, { config }): Promise<StuckReport> => {
        const { jobs, dead_nodes } = await stuckJobs(admin.redis, admin.keys, { olderThanMs, queue });
        const lists = await orphanLists(admin.redis, admin.keys, queue);
        const base = { older_than_ms: olderThanMs, queue: queue ?? null, jobs, dead_nodes };
        if (!opts.requeueOrphans) {
          return { ...base, orphans: lists.map((l) => ({ ...l, status: 'orphan', requeued: 0 })), requeued: null, warnings: [] };
        }
        const done = await requeueOrphans(admin.scripts, lists, config.reapBatch);
        const requeued = done.reduce((a, o) => a + o.requeued, 0);
        return { ...base, orphans: done, requeued, warnings: lists.length ? [ORPHAN_REQUEUE_WARNING] : [] };
      });
      if (opts.json) return printJson(report);
      for (const w of report.warnings) process.stderr.write(`${paint.yellow('verk: warning:')} ${w}\n`);
      printHuman(report);
    });
}

function printHuman(r: StuckReport): void {
  const out = (s: string) => process.stdout.write(s);
  const q = r.queue ? ` in queue ${r.queue}` : '';
  if (r.jobs.length === 0) out(`no jobs running longer than ${seconds(r.older_than_ms / 1000)} on live nodes${q}\n`);
  else {
    out(`${plural(r.jobs.length, 'job')} running longer than ${seconds(r.older_than_ms / 1000)} on live nodes${q}:\n`);
    printTable(
      ['NODE', 'QUEUE', 'CLASS', 'JID', 'RUNNING', 'STARTED'],
      r.jobs.map((j) => [j.node, j.queue, j.class ?? BLANK, j.jid ?? BLANK, j.running_s === null ? 'unknown' : seconds(j.running_s), time(j.started_at)]),
    );
    if (r.jobs.some((j) => j.running_s === null)) out('(running "unknown": the node records no start times, e.g. Elixir verk; its in-progress list is shown)\n');
  }
  out('\n');
  if (r.orphans.length === 0) out(`no in-progress lists without a registered node${q}\n`);
  else {
    out(`${plural(r.orphans.length, 'in-progress list')} no registered node owns:\n`);
    const requeue = r.requeued !== null;
    printTable(
      ['LIST', 'QUEUE', 'NODE', 'JOBS', ...(requeue ? ['RESULT'] : [])],
      r.orphans.map((o) => [o.key, o.queue, o.node, o.jobs, ...(requeue ? [result(o)] : [])]),
    );
    if (requeue) out(`${plural(r.requeued ?? 0, 'job')} handed back to the front of their queues\n`);
    else
      out(
        'run with --requeue-orphans to hand them back to the front of their queues, only if no fixed-id Elixir verk node uses these ids (it writes no registry entry, so its lists look unowned while it runs them)\n',
      );
  }
  if (r.dead_nodes.length)
    out(`\n${plural(r.dead_nodes.length, 'registered node')} dead, waiting for a reaper (${r.dead_nodes.join(', ')}): \`verk requeue-dead\` reaps them now\n`);
}

function result(o: StuckOrphan): string {
  if (o.status === 'moved') return `requeued ${o.requeued}`;
  if (o.status === 'owned') return 'skipped: node registered again';
  if (o.status === 'alive') return 'skipped: node alive';
  return BLANK;
}
