// `verk limits [--json]` and `verk limits why <queue> <key> [--json]`: the cluster-wide limits
// (docs/limits.md) as Redis holds them now (src/api/limits.ts): each limited queue and key with
// its slots held / limit, holders by node, parked jobs, rate used and next reopening; and why a
// key's next job is not running. Works without the config (limits come from verk:limits).
import type { Command } from 'commander';
import { limitsReport, whyLimited } from '../../api/limits.js';
import { QUEUE_NAME } from '../../api/names.js';
import { UsageError } from '../../util/errors.js';
import { withAdmin } from '../admin-session.js';
import { BLANK, time } from '../human.js';
import { withConnectionOptions } from '../options.js';
import { printJson, printTable } from '../render.js';

export function registerLimits(program: Command): void {
  const limits = withConnectionOptions(program.command('limits'))
    .description('cluster-wide limits: per queue and key, slots held / limit, holders by node, parked jobs, rate used, next reopening')
    .option('--json', 'print {"redis_time","queues":[…]} (docs/limits.md)')
    .action(async (opts: Record<string, unknown>) => {
      const r = await withAdmin(opts, (ctx, loaded) => limitsReport(ctx, loaded.config.limits));
      if (opts.json) return printJson(r);
      if (r.queues.length === 0) return void process.stdout.write('no limits: declare some under `limits` in the config file (docs/limits.md)\n');
      for (const q of r.queues) {
        const l = q.limit;
        const what = [l.concurrency ? `concurrency ${l.concurrency}` : '', l.rate ? `rate ${l.rate}/${l.rate_window_ms}ms` : ''].filter(Boolean).join(', ');
        process.stdout.write(
          `${q.queue}: ${what} per ${l.key ? `key ${l.key}` : 'queue'}; ${q.held_total} held, ${q.parked_total} parked${l.source === 'config' ? ' (from this config: no node has recorded it yet)' : ''}\n`,
        );
        if (q.keys.length === 0) {
          process.stdout.write('  no key holds a slot or waits\n');
          continue;
        }
        printTable(
          ['KEY', 'HELD', 'HOLDERS', 'PARKED', 'RATE USED', 'NEXT REOPENING'],
          q.keys.map((k) => [
            k.key,
            k.limit ? `${k.held}/${k.limit}` : String(k.held),
            Object.entries(k.holders)
              .map(([n, c]) => (c > 1 ? `${n}×${c}` : n))
              .join(' ') || BLANK,
            k.parked,
            k.rate_used === null ? BLANK : `${k.rate_used}/${l.rate}`,
            k.next_reopening ? time(k.next_reopening) : k.due ? 'due now' : BLANK,
          ]),
          { drop: ['HOLDERS'] },
        );
        if (q.truncated) process.stdout.write(`  (more keys than shown; \`verk limits why ${q.queue} <key>\` shows any one)\n`);
      }
    });

  withConnectionOptions(limits.command('why'))
    .description("why a key's next job is not running: concurrency full (and who holds it), rate window, queue paused, no node fetching, nothing parked")
    .argument('<queue>', 'the limited queue')
    .argument('<key>', 'the key (as `verk limits` shows it; "-" = jobs whose key path is missing, "*" = a queue without a key path)')
    .option('--json', 'print {"queue","key","verdict","reasons","state"}')
    .action(async (queue: string, key: string, own: Record<string, unknown>, cmd: Command) => {
      // `--json` after the arguments is parsed by the parent `limits` command: read both.
      const opts = { ...own, ...cmd.optsWithGlobals() };
      if (!QUEUE_NAME.test(queue)) throw new UsageError(`queue ${JSON.stringify(queue)}: use letters, digits, _ . - only`);
      const r = await withAdmin(opts, (ctx, loaded) => whyLimited(ctx, queue, key, loaded.config.limits));
      if (opts.json) return printJson(r);
      process.stdout.write(`${queue} key ${key}: ${r.verdict.replace(/_/g, ' ')}\n`);
      for (const reason of r.reasons) process.stdout.write(`  - ${reason}\n`);
    });
}
