// `verk show <jid> [--json]`: one job wherever it is (queue, in progress on a node, schedule,
// retry, dead) with its full payload, error and backtrace (src/api/find-job.ts). Exit 1 when
// it is nowhere. A jid found in more than one place (a duplicate) is shown once per place.
import type { Command } from 'commander';
import { findJob, SCAN_BOUND, type JobMatch } from '../../api/find-job.js';
import { redisNow } from '../../api/admin-context.js';
import { EXIT, UsageError } from '../../util/errors.js';
import { withAdmin } from '../admin-session.js';
import { withConnectionOptions } from '../options.js';
import { paint, printJson } from '../render.js';
import { relative } from '../time-format.js';

const PLACE: Record<JobMatch['where'], string> = {
  queue: 'waiting in queue',
  in_progress: 'running (in progress)',
  schedule: 'scheduled',
  retry: 'waiting to be retried',
  dead: 'dead',
};

export function registerShow(program: Command): void {
  withConnectionOptions(program.command('show'))
    .description('show one job wherever it is (queue, in progress, schedule, retry, dead): payload, error, backtrace')
    .argument('<jid>', 'job id')
    .option('--json', 'print {"jid","matches":[…],"scanned","truncated"} (see docs/cli.md)')
    .action(async (jid: string, opts: Record<string, unknown>) => {
      if (!/^[\x21-\x7e]{1,200}$/.test(jid)) throw new UsageError(`jid ${JSON.stringify(jid)}: expected printable characters without spaces`);
      const { report, now } = await withAdmin(opts, async (ctx) => ({ report: await findJob(ctx, jid), now: await redisNow(ctx.redis) }));
      if (report.matches.length === 0) {
        process.exitCode = EXIT.runtime;
        if (opts.json) printJson(report);
        const cut = report.truncated.length ? `; not fully scanned (over ${SCAN_BOUND} entries): ${report.truncated.join(', ')}` : '';
        process.stderr.write(`verk: job ${jid} not found in any queue, in-progress list, schedule, retry or dead (${report.scanned} entries looked at${cut})\n`);
        return;
      }
      if (opts.json) return printJson(report);
      report.matches.forEach((m, i) => {
        if (i) process.stdout.write('\n');
        process.stdout.write(describe(jid, m, now));
      });
      if (report.matches.length > 1) process.stdout.write(paint.yellow(`\nnote: job ${jid} is in ${report.matches.length} places (a duplicate)`) + '\n');
    });
}

function describe(jid: string, m: JobMatch, now: number): string {
  const where = m.where === 'in_progress' ? `${PLACE[m.where]} on node ${m.node}` : PLACE[m.where];
  const atLabel = m.where === 'dead' ? 'died' : m.where === 'retry' ? 'next retry' : 'run at';
  const rows: [string, string | null][] = [
    ['where', `${where} (${m.key})`],
    ['class', m.class],
    ['queue', m.queue],
    ['args', m.args],
    [atLabel, when(m.at, now)],
    ['created', when(m.created_at, now)],
    ['enqueued', when(m.enqueued_at, now)],
    ['retry', m.retry === null ? null : JSON.stringify(m.retry)],
    ['retry count', m.retry_count === null ? null : String(m.retry_count)],
    ['failed', when(m.failed_at, now)],
    ['retried', when(m.retried_at, now)],
    ['error', m.error_class || m.error_message ? paint.red([m.error_class, m.error_message].filter(Boolean).join(': ')) : null],
    ['unique', m.unique ? `${m.unique.key} (until ${m.unique.until}; ${lockState(jid, m.unique.holder)})` : null],
  ];
  const lines = [paint.bold(`job ${jid}`)];
  for (const [k, v] of rows) if (v !== null) lines.push(`  ${k.padEnd(13)}${v}`);
  if (m.attempts.length > 1) {
    lines.push('  attempts');
    for (const a of m.attempts) lines.push(`    ${new Date(a.at * 1000).toISOString()}  ${paint.red(`${a.error_class}: ${a.error_message}`)}`);
  }
  if (m.error_backtrace?.length) {
    lines.push('  backtrace');
    for (const l of m.error_backtrace) lines.push(`    ${l}`);
  }
  lines.push('  payload', `    ${m.raw}`);
  return lines.join('\n') + '\n';
}

function lockState(jid: string, holder: string | null): string {
  if (holder === null) return 'lock free';
  return holder === jid ? 'holds the lock' : `lock held by ${holder}`;
}

function when(t: number | null, now: number): string | null {
  return t === null ? null : `${new Date(t * 1000).toISOString()} (${relative(t, now)})`;
}
