// The `cron` setting: periodic jobs by name, e.g.
//   cron: { nightly: { class: 'Reports.Nightly', args: [], queue: 'default', schedule: '0 3 * * *',
//                      tz: 'Europe/Berlin', catchUp: 'latest', overlap: 'allow' } }
// Its resolved shape and its parser (a file's object, or its JSON text from VERK_CRON/--cron).
// Every bad entry is an error naming the entry and the field (docs/cron.md).
import { CLASS_NAME, QUEUE_NAME } from '../job/names.js';
import { scheduleProblem } from '../job/cron-schedule.js';
import { parseDuration } from '../util/duration.js';
import type { Fail } from './queues.js';
import { namedEntries } from './named-entries.js';

export const CATCH_UP = ['skip', 'latest', 'all'] as const;
export const OVERLAP = ['allow', 'skip-if-running', 'replace'] as const;
export type CatchUp = (typeof CATCH_UP)[number];
export type Overlap = (typeof OVERLAP)[number];

export interface CronEntry {
  name: string;
  class: string;
  /** The job's args (a JSON array, sent as is). */
  args: unknown[];
  queue: string;
  schedule: string;
  /** IANA time zone the schedule is read in. */
  tz: string;
  /** What happens to ticks no node fired within `grace` (missed during an outage). */
  catchUp: CatchUp;
  /** With catchUp 'all': late ticks run at most (the oldest beyond it are recorded missed). */
  catchUpMax: number;
  /** A tick not fired within this many ms of its instant is late (then catchUp applies). */
  grace: number;
  overlap: Overlap;
  /** The job's `retry` (Sidekiq's: true = runner default, false, or a number of retries). */
  retry: boolean | number;
}

/** What an entry may leave out. */
export const CRON_ENTRY_DEFAULTS = {
  queue: 'default',
  tz: 'UTC',
  catchUp: 'latest' as CatchUp,
  catchUpMax: 10,
  grace: 60_000,
  overlap: 'allow' as Overlap,
  retry: true as boolean | number,
  args: [] as unknown[],
};

/** Entry names become part of key names (verk:cron:<name>). */
export const CRON_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
/** Names whose verk:cron:<name> is a key all entries share (the paused set, the names seen). */
export const CRON_RESERVED = ['paused', 'entries'];

const FIELDS = ['class', 'args', 'queue', 'schedule', 'tz', 'catchUp', 'catchUpMax', 'grace', 'overlap', 'retry'];

/** Accepts { name: { class, schedule, ... } } or its JSON text. */
export function parseCron(value: unknown, fail: Fail): CronEntry[] {
  return namedEntries(value, fail, 'entries', "{ nightly: { class: 'Reports.Nightly', schedule: '0 3 * * *' } }").map(([name, e]) =>
    parseEntry(name, e, (why) => fail(`entry ${JSON.stringify(name)}: ${why}`)),
  );
}

function parseEntry(name: string, e: unknown, fail: Fail): CronEntry {
  if (!CRON_NAME.test(name)) fail('a name may have letters, digits, _ . - only (at most 100)');
  if (CRON_RESERVED.includes(name)) fail(`the names ${CRON_RESERVED.join(' and ')} are reserved (verk:cron:${name} is a key all entries share)`);
  if (!e || typeof e !== 'object' || Array.isArray(e)) return fail(`must be an object with at least class and schedule, got ${JSON.stringify(e)}`);
  const o = e as Record<string, unknown>;
  const unknownKey = Object.keys(o).find((k) => !FIELDS.includes(k));
  if (unknownKey) fail(`unknown field \`${unknownKey}\` (use ${FIELDS.join(', ')})`);
  const d = CRON_ENTRY_DEFAULTS;
  if (typeof o.class !== 'string' || !CLASS_NAME.test(o.class)) fail(`class must be a job class name like Reports.Nightly, got ${JSON.stringify(o.class)}`);
  if (typeof o.schedule !== 'string' || o.schedule.trim() === '') fail(`schedule must be a cron expression like "0 3 * * *", got ${JSON.stringify(o.schedule)}`);
  const queue = o.queue ?? d.queue;
  if (typeof queue !== 'string' || !QUEUE_NAME.test(queue)) fail(`queue must be a queue name (letters, digits, _ . -), got ${JSON.stringify(queue)}`);
  const args = o.args ?? d.args;
  if (!Array.isArray(args)) fail(`args must be an array, got ${JSON.stringify(args)}`);
  const tz = o.tz ?? d.tz;
  if (typeof tz !== 'string') fail(`tz must be an IANA time zone name, got ${JSON.stringify(tz)}`);
  const catchUp = o.catchUp ?? d.catchUp;
  if (!(CATCH_UP as readonly unknown[]).includes(catchUp)) fail(`catchUp must be one of ${CATCH_UP.join(', ')}, got ${JSON.stringify(catchUp)}`);
  const overlap = o.overlap ?? d.overlap;
  if (!(OVERLAP as readonly unknown[]).includes(overlap)) fail(`overlap must be one of ${OVERLAP.join(', ')}, got ${JSON.stringify(overlap)}`);
  const catchUpMax = o.catchUpMax ?? d.catchUpMax;
  if (typeof catchUpMax !== 'number' || !Number.isInteger(catchUpMax) || catchUpMax < 1 || catchUpMax > 1000) {
    fail(`catchUpMax must be a whole number from 1 to 1000, got ${JSON.stringify(catchUpMax)}`);
  }
  let grace = d.grace;
  try {
    grace = parseDuration(o.grace ?? d.grace);
  } catch (err) {
    fail(`grace ${(err as Error).message}`);
  }
  if (grace < 1000 || grace > 7 * 86_400_000) fail(`grace must be from 1s to 7d, got ${JSON.stringify(o.grace)}`);
  const retry = o.retry ?? d.retry;
  if (typeof retry !== 'boolean' && !(typeof retry === 'number' && Number.isInteger(retry) && retry >= 0 && retry <= 1_000_000)) {
    fail(`retry must be true, false or a number of retries, got ${JSON.stringify(retry)}`);
  }
  let argsText = '';
  try {
    argsText = JSON.stringify(args);
  } catch (err) {
    fail(`args must be JSON: ${(err as Error).message}`);
  }
  if (argsText.length > 64 * 1024) fail('args must be at most 64 KB of JSON');
  const schedule = (o.schedule as string).trim();
  const problem = scheduleProblem({ schedule, tz: tz as string });
  if (problem) fail(problem);
  return {
    name,
    class: o.class as string,
    args: JSON.parse(argsText) as unknown[],
    queue: queue as string,
    schedule,
    tz: tz as string,
    catchUp: catchUp as CatchUp,
    catchUpMax: catchUpMax as number,
    grace,
    overlap: overlap as Overlap,
    retry: retry as boolean | number,
  };
}
