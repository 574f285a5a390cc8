// `verk nodes [--json]`: every registered node with the identity of its `verk work` (what
// `verk quiet`/`stop` take), host, pid, alive/dead, seconds since its last beat, TTL left,
// queues, jobs in progress, started at, version (src/api/nodes.ts).
// JSON shape: docs/cli-nodes.md.
import type { Command } from 'commander';
import { listNodes, type NodeRow } from '../../api/nodes.js';
import { withConnectionOptions } from '../options.js';
import { printJson, printTable } from '../render.js';
import { BLANK, ms, plural, seconds, time } from '../human.js';
import { withAdmin } from '../admin-session.js';

export function registerNodes(program: Command): void {
  withConnectionOptions(program.command('nodes'))
    .description('list registered worker nodes: alive or dead, last beat, TTL left, jobs in progress')
    .option('--json', 'print the result as JSON')
    .action(async (opts: Record<string, unknown>) => {
      const report = await withAdmin(opts, (admin) => listNodes(admin.redis, admin.keys));
      if (opts.json) return printJson(report);
      if (report.nodes.length === 0) {
        process.stdout.write('no registered nodes\n');
        return;
      }
      printTable(
        ['NODE', 'IDENTITY', 'STATUS', 'HOST', 'PID', 'LAST BEAT', 'TTL LEFT', 'QUEUES', 'IN PROGRESS', 'BUSY', 'STATE', 'STARTED', 'VERSION'],
        report.nodes.map((n) => [
          n.id,
          n.identity ?? BLANK,
          status(n),
          n.host ?? BLANK,
          n.pid ?? BLANK,
          n.last_beat_s === null ? BLANK : `${seconds(n.last_beat_s)} ago`,
          ms(n.ttl_ms),
          n.queues.join(',') || BLANK,
          n.in_progress,
          n.busy ?? BLANK,
          n.state ?? BLANK,
          time(n.started_at),
          n.version ?? BLANK,
        ]),
        { drop: ['VERSION', 'STARTED', 'TTL LEFT', 'BUSY', 'HOST', 'STATE', 'PID'] },
      );
      const dead = report.nodes.filter((n) => !n.alive).length;
      const summary = `${plural(report.nodes.length, 'node')}: ${report.nodes.length - dead} alive, ${dead} dead`;
      process.stdout.write(`\n${summary}${dead ? ' (`verk requeue-dead --dry-run` shows what the reaper will move)' : ''}\n`);
    });
}

function status(n: NodeRow): string {
  if (n.alive) return 'alive';
  return n.reaping ? 'dead (reaping)' : 'dead';
}
