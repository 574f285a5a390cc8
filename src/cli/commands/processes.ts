// `verk processes [--json]`: each `verk work` supervisor (and Sidekiq process) in Sidekiq's
// `processes` set: identity, host, pid, started, state, busy/concurrency and its verk nodes.
// The identity and node ids are the names `verk quiet`/`verk stop` take (src/api/process-report.ts).
import type { Command } from 'commander';
import { processesReport } from '../../api/process-report.js';
import { withAdmin } from '../admin-session.js';
import { withConnectionOptions } from '../options.js';
import { BLANK, plural, seconds, time } from '../human.js';
import { printJson, printTable } from '../render.js';

export function registerProcesses(program: Command): void {
  withConnectionOptions(program.command('processes'))
    .description('list live `verk work` supervisors (and Sidekiq processes): identity, state, busy, their worker nodes')
    .option('--json', 'print {"redis_time","processes":[…]} (see docs/cli.md)')
    .action(async (opts: Record<string, unknown>) => {
      const report = await withAdmin(opts, (ctx) => processesReport(ctx));
      if (opts.json) return printJson(report);
      if (report.processes.length === 0) return void process.stdout.write('no live processes\n');
      printTable(
        ['IDENTITY', 'HOST', 'PID', 'STATE', 'BUSY', 'STARTED', 'LAST BEAT', 'QUEUES', 'NODES'],
        report.processes.map((p) => [
          p.identity,
          p.hostname ?? BLANK,
          p.pid ?? BLANK,
          p.state,
          `${p.busy}/${p.concurrency ?? '?'}`,
          p.started_at === null ? BLANK : time(new Date(p.started_at * 1000).toISOString()),
          p.last_beat_s === null ? BLANK : `${seconds(p.last_beat_s)} ago`,
          p.queues.join(',') || BLANK,
          p.verk ? p.nodes.map((n) => `${n.id} (pid ${n.pid ?? '?'}${n.alive ? '' : ', dead'})`).join(' ') || BLANK : '(Sidekiq)',
        ]),
      );
      process.stdout.write(`\n${plural(report.processes.length, 'process', 'processes')}; \`verk quiet|stop <identity|node>\` controls one\n`);
    });
}
