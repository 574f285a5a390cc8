// `verk cron list|next|history|run|pause|resume`: periodic jobs (docs/cron.md). Definitions come
// from the config file (the `cron` key), state from Redis (src/api/cron.ts). Pause is
// cluster-wide: every supervisor records a paused entry's ticks as skipped ("paused") until it is
// resumed, so nothing piles up meanwhile. `run` enqueues the job now, outside the schedule.
import os from 'node:os';
import type { Command } from 'commander';
import { cronHistory, knownCron, listCron, nextCron, pauseCron, runCron } from '../../api/cron.js';
import type { AdminContext } from '../../api/admin-context.js';
import type { CronEntry } from '../../config/cron.js';
import { suggestKey } from '../../config/schema.js';
import { UsageError } from '../../util/errors.js';
import { withAdmin } from '../admin-session.js';
import { BLANK, time } from '../human.js';
import { withConnectionOptions } from '../options.js';
import { printJson, printTable } from '../render.js';

export function registerCron(program: Command): void {
  const cron = program.command('cron').description('periodic jobs declared in the config (`cron` key): list, next ticks, history, run now, pause');

  withConnectionOptions(cron.command('list'))
    .description('every entry: schedule, zone, policies, paused, last decided tick and the next one')
    .option('--json', 'print {"redis_time","entries":[…]} (docs/cron.md)')
    .action(async (opts: Record<string, unknown>) => {
      const r = await withAdmin(opts, (ctx, loaded) => listCron(ctx, loaded.config.cron));
      if (opts.json) return printJson(r);
      if (r.entries.length === 0) return void process.stdout.write('no periodic jobs: declare some under `cron` in the config file (docs/cron.md)\n');
      printTable(
        ['NAME', 'SCHEDULE', 'TZ', 'CLASS', 'QUEUE', 'STATE', 'LAST TICK', 'LAST', 'NEXT TICK'],
        r.entries.map((e) => [
          e.name,
          e.schedule ?? BLANK,
          e.tz ?? BLANK,
          e.class ?? BLANK,
          e.queue ?? BLANK,
          !e.in_config ? 'not in config' : e.paused ? 'paused' : 'active',
          time(e.last_tick),
          e.last_outcome ?? BLANK,
          e.paused ? `${time(e.next_tick)} (skipped)` : time(e.next_tick),
        ]),
        { drop: ['CLASS', 'QUEUE'] },
      );
    });

  withConnectionOptions(cron.command('next'))
    .description("an entry's next ticks on Redis's clock")
    .argument('<name>', 'entry name')
    .option('--count <n>', 'ticks to show', '5')
    .option('--json', 'print {"name","tz","redis_time","ticks":[…]}')
    .action(async (name: string, opts: Record<string, unknown>) => {
      const count = wholeNumber('--count', opts.count, 1, 1000);
      const r = await withAdmin(opts, async (ctx, loaded) => nextCron(ctx, await declared(ctx, loaded.config.cron, name), count));
      if (opts.json) return printJson(r);
      const local = new Intl.DateTimeFormat('sv-SE', {
        timeZone: r.tz,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
        timeZoneName: 'short',
      });
      printTable(
        ['TICK (UTC)', `LOCAL (${r.tz})`],
        r.ticks.map((t) => [time(t), local.format(new Date(t))]),
      );
    });

  withConnectionOptions(cron.command('history'))
    .description("an entry's decided ticks, newest first: fired (with lag), skipped (with the reason), missed, run")
    .argument('<name>', 'entry name')
    .option('--limit <n>', 'newest events to show', '20')
    .option('--json', 'print {"name","events":[…],"unreadable"}')
    .action(async (name: string, opts: Record<string, unknown>) => {
      const limit = wholeNumber('--limit', opts.limit, 1, 100_000);
      const r = await withAdmin(opts, async (ctx, loaded) => {
        await known(ctx, loaded.config.cron, name);
        return cronHistory(ctx, name, limit);
      });
      if (opts.json) return printJson(r);
      if (r.events.length === 0) return void process.stdout.write(`no ticks recorded for ${name} yet\n`);
      printTable(
        ['AT', 'OUTCOME', 'TICK', 'LAG', 'JID', 'BY', 'DETAIL'],
        r.events.map((e) => [
          time(e.at),
          e.outcome,
          time(e.tick),
          e.lag_ms === null ? BLANK : `${e.lag_ms}ms`,
          e.jid ?? BLANK,
          e.by ?? BLANK,
          e.reason ?? (e.outcome === 'missed' ? `${e.count} tick(s) from ${time(e.from)}` : BLANK),
        ]),
        { drop: ['BY'] },
      );
    });

  withConnectionOptions(cron.command('run'))
    .description("enqueue an entry's job now, outside its schedule (pause and overlap do not apply; recorded as run)")
    .argument('<name>', 'entry name')
    .option('--json', 'print {"name","jid","queue","enqueued_at"}')
    .action(async (name: string, opts: Record<string, unknown>) => {
      const r = await withAdmin(opts, async (ctx, loaded) => runCron(ctx, await declared(ctx, loaded.config.cron, name), `cli:${os.hostname()}`));
      if (opts.json) return printJson(r);
      process.stdout.write(`enqueued ${name} now: jid ${r.jid} in queue ${r.queue}\n`);
    });

  for (const verb of ['pause', 'resume'] as const) {
    withConnectionOptions(cron.command(verb))
      .description(
        verb === 'pause' ? "pause an entry fleet-wide: its ticks are recorded as skipped ('paused') until resumed" : 'resume a paused entry: its next tick fires again',
      )
      .argument('<name>', 'entry name')
      .option('--json', 'print {"name","paused","changed"}')
      .action(async (name: string, opts: Record<string, unknown>) => {
        const r = await withAdmin(opts, async (ctx, loaded) => {
          await known(ctx, loaded.config.cron, name);
          return pauseCron(ctx, name, verb === 'pause');
        });
        if (opts.json) return printJson(r);
        const what = r.paused
          ? r.changed
            ? 'paused: its ticks are skipped until resumed'
            : 'was already paused'
          : r.changed
            ? 'resumed: its next tick fires'
            : 'was not paused';
        process.stdout.write(`${name} ${what}\n`);
      });
  }
}

/** The entry as the config declares it (run and next need its definition). */
async function declared(ctx: AdminContext, entries: readonly CronEntry[], name: string): Promise<CronEntry> {
  const e = entries.find((x) => x.name === name);
  if (e) return e;
  const redisKnows = (await knownCron(ctx)).includes(name);
  throw new UsageError(
    redisKnows
      ? `periodic job ${name} is known to Redis but not declared in this config file: pass the config that declares it (--config)`
      : `no periodic job named ${name}${hint(
          name,
          entries.map((x) => x.name),
        )}`,
  );
}

/** Declared in the config or known to Redis (history, pause and resume need only the name). */
async function known(ctx: AdminContext, entries: readonly CronEntry[], name: string): Promise<void> {
  const names = [...new Set([...entries.map((x) => x.name), ...(await knownCron(ctx))])];
  if (!names.includes(name)) throw new UsageError(`no periodic job named ${name}${hint(name, names)}`);
}

function hint(name: string, names: string[]): string {
  const close = suggestKey(name, names);
  if (close) return ` — did you mean ${close}?`;
  return names.length ? ` (entries: ${names.slice(0, 10).join(', ')})` : ' (the config declares none: see docs/cron.md)';
}

function wholeNumber(flag: string, v: unknown, min: number, max: number): number {
  const s = String(v);
  if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) throw new UsageError(`${flag} ${JSON.stringify(s)}: use a whole number from ${min} to ${max}`);
  return Number(s);
}
