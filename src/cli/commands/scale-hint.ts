// `verk scale-hint --queue q --target-latency 30s [--window 10s] [--json]`: how many worker
// processes the queue's load needs (src/api/scale-hint.ts), from two samples a window apart.
import type { Command } from 'commander';
import { sampleLoad, scaleHint } from '../../api/scale-hint.js';
import { QUEUE_NAME } from '../../api/names.js';
import { parseDuration } from '../../util/duration.js';
import { UsageError } from '../../util/errors.js';
import { withAdmin } from '../admin-session.js';
import { withConnectionOptions } from '../options.js';
import { printJson, printTable } from '../render.js';

export function registerScaleHint(program: Command): void {
  withConnectionOptions(program.command('scale-hint'))
    .description('how many worker processes a queue needs to keep its latency under a target, from its measured throughput')
    .requiredOption('--queue <queue>', 'the queue')
    .option('--target-latency <duration>', 'the longest a job should wait, e.g. 30s', '30s')
    .option('--window <duration>', 'how long to measure the throughput', '10s')
    .option('--json', 'print the result as JSON')
    .action(async (opts: Record<string, unknown>) => {
      const queue = String(opts.queue);
      if (!QUEUE_NAME.test(queue)) throw new UsageError(`--queue: ${JSON.stringify(queue)} is not a queue name`);
      const target = duration(opts.targetLatency, '--target-latency', 1000);
      const window = duration(opts.window, '--window', 1000);
      const hint = await withAdmin(opts, async (admin) => {
        const a = await sampleLoad(admin, queue);
        await new Promise((r) => setTimeout(r, window));
        return scaleHint(a, await sampleLoad(admin, queue), target / 1000);
      });
      if (opts.json) return printJson(hint);
      printTable(
        ['QUEUE', 'SIZE', 'LATENCY', 'DONE/S', 'IN/S', 'PER PROCESS/S', 'PROCESSES', 'NEEDED'],
        [[hint.queue, hint.size, `${hint.latency}s`, hint.throughput, hint.arrivals, hint.per_process ?? '?', hint.nodes, hint.processes_needed ?? '?']],
      );
      process.stdout.write(`\n${hint.advice}\n`);
    });
}

function duration(v: unknown, flag: string, min: number): number {
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
  if (ms < min) throw new UsageError(`${flag} must be at least ${min} ms`);
  if (ms > 3_600_000) throw new UsageError(`${flag} must be at most 1h`);
  return ms;
}
