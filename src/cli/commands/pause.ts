// `verk pause <queue>` / `verk resume <queue>`: cluster-wide, state in Redis (`verk:paused`).
// Every node's fetch refuses a paused queue at once; running jobs finish. A resumed queue is
// served again within blockTimeout (idle fetchers look at a paused queue once per blockTimeout).
// Pausing a queue nobody ever used still pauses it (as Sidekiq Enterprise's Queue#pause! does)
// but warns on stderr with the closest known name: it is most likely a typo.
import type { Command } from 'commander';
import type { AdminContext } from '../../api/admin-context.js';
import { pauseQueue, resumeQueue, type PauseResult } from '../../api/pause.js';
import { queueUsage } from '../../api/queues.js';
import { suggestKey } from '../../config/schema.js';
import { QUEUE_NAME } from '../../api/names.js';
import { UsageError } from '../../util/errors.js';
import { withAdmin } from '../admin-session.js';
import { withConnectionOptions } from '../options.js';
import { printJson } from '../render.js';

export function registerPause(program: Command): void {
  for (const verb of ['pause', 'resume'] as const) {
    withConnectionOptions(program.command(verb))
      .description(verb === 'pause' ? 'stop every node fetching from a queue (running jobs finish; jobs stay queued)' : 'let every node fetch from a paused queue again')
      .argument('<queue>', 'queue name')
      .option('--json', 'print {"queue","paused","changed"}')
      .action(async (queue: string, opts: Record<string, unknown>) => {
        if (!QUEUE_NAME.test(queue)) throw new UsageError(`queue ${JSON.stringify(queue)}: use letters, digits, _ . - only`);
        const r = await withAdmin(opts, async (ctx) => {
          if (verb === 'pause') await warnIfUnused(ctx, queue);
          return verb === 'pause' ? pauseQueue(ctx, queue) : resumeQueue(ctx, queue);
        });
        if (opts.json) printJson(r);
        else process.stdout.write(describe(r) + '\n');
      });
  }
}

async function warnIfUnused(ctx: AdminContext, queue: string): Promise<void> {
  const { used, known } = await queueUsage(ctx, queue);
  if (used) return;
  const close = suggestKey(queue, known);
  const hint = close ? ` — did you mean ${close}?` : known.length ? ` (known queues: ${known.slice(0, 10).join(', ')})` : '';
  process.stderr.write(`verk: warning: no job was ever enqueued to queue ${queue}; pausing it anyway${hint}\n`);
}

function describe(r: PauseResult): string {
  if (r.paused) return r.changed ? `paused queue ${r.queue}: no node fetches from it any more` : `queue ${r.queue} was already paused`;
  return r.changed ? `resumed queue ${r.queue}: nodes fetch from it again within blockTimeout (5 s by default)` : `queue ${r.queue} was not paused`;
}
