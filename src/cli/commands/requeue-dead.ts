// `verk requeue-dead [--dry-run] [--node ID] [--json]`: a reaper pass now, with the reaper's own
// script and the resolved config's limits (src/api/requeue-dead.ts); --dry-run reads only and
// shows what would move and which jobs would go to dead and why (src/api/reap-plan.ts).
// JSON shapes: docs/cli-nodes.md.
import os from 'node:os';
import type { Command } from 'commander';
import { planReap, type NodePlan } from '../../api/reap-plan.js';
import { requeueDead, type RequeueNodeResult } from '../../api/requeue-dead.js';
import { withConnectionOptions } from '../options.js';
import { printJson, printTable } from '../render.js';
import { ms, plural, seconds } from '../human.js';
import { withAdmin } from '../admin-session.js';

export function registerRequeueDead(program: Command): void {
  withConnectionOptions(program.command('requeue-dead'))
    .description('reap dead nodes now: their in-progress jobs go back to the front of their queues')
    .option('--dry-run', 'change nothing: show what would be requeued and what would go to dead')
    .option('--node <id>', 'only this node (still only if its heartbeat key is gone)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: Record<string, unknown>) => {
      const node = opts.node as string | undefined;
      await withAdmin(opts, async (admin, { config }) => {
        if (opts.dryRun) {
          const plan = await planReap(admin, config, { node });
          if (opts.json) return printJson(plan);
          if (plan.nodes.length === 0) return void process.stdout.write('no dead nodes: nothing would be requeued\n');
          plan.nodes.forEach((n, i) => printPlan(n, i > 0));
          if (plan.nodes.length > 1) process.stdout.write(`\ntotal: ${plural(plan.requeue, 'job')} would be requeued, ${plural(plan.dead, 'job')} would go to dead\n`);
          return;
        }
        const report = await requeueDead(admin, config, { node, by: `cli:${os.hostname()}` });
        if (opts.json) return printJson(report);
        if (report.nodes.length === 0) return void process.stdout.write('no dead nodes: nothing to requeue\n');
        for (const r of report.nodes) process.stdout.write(`${line(r)}\n`);
        if (report.nodes.length > 1) process.stdout.write(`total: ${plural(report.requeued, 'job')} requeued, ${plural(report.dead, 'job')} sent to dead\n`);
      });
    });
}

function line(r: RequeueNodeResult): string {
  if (r.status === 'alive') return `node ${r.node} is alive (its heartbeat key exists): not reaped`;
  if (r.status === 'not_registered') return `node ${r.node} is not registered: nothing to reap (\`verk stuck\` lists in-progress lists no node owns)`;
  const dead = r.dead ? `, ${plural(r.dead, 'job')} sent to dead (poison pill)` : '';
  const left = r.remaining ? `; ${r.remaining} left (another reaper is on it)` : '';
  return `node ${r.node}: ${plural(r.requeued, 'job')} requeued${dead}${left}${r.status === 'reaped' && !r.remaining ? '; deregistered' : ''}`;
}

function printPlan(n: NodePlan, gap: boolean): void {
  if (gap) process.stdout.write('\n');
  if (n.status === 'alive') return void process.stdout.write(`node ${n.node} is alive (its heartbeat key exists): it would not be reaped\n`);
  if (n.status === 'not_registered') return void process.stdout.write(`node ${n.node} is not registered: nothing to reap\n`);
  const silent = n.silent_s === null ? 'silent (no beat recorded)' : `silent for ${seconds(n.silent_s)}`;
  const counts = [...new Set(n.dead_jobs.map((j) => `${j.recoveries}/${j.max_recoveries}`))].join(', ');
  const dead = n.dead ? `${n.dead === 1 ? '1 job' : `${n.dead} jobs`} would go to dead (recoveries ${counts})` : 'none would go to dead';
  process.stdout.write(`node ${n.node} ${silent}; TTL ${ms(n.node_ttl_ms)}; ${plural(n.requeue, 'job')} would be requeued; ${dead}\n`);
  if (n.queues.length)
    printTable(
      ['QUEUE', 'IN PROGRESS', 'REQUEUE', 'DEAD'],
      n.queues.map((q) => [q.queue, q.jobs, q.requeue, q.dead]),
    );
  if (n.dead_jobs.length) {
    process.stdout.write('\n');
    printTable(
      ['JID', 'CLASS', 'QUEUE', 'RECOVERIES', 'WHY'],
      n.dead_jobs.map((j) => [j.jid, j.class ?? '-', j.queue, `${j.recoveries}/${j.max_recoveries}`, j.reason]),
    );
  }
}
