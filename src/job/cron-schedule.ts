// A periodic job's schedule: a 5- or 6-field cron expression read in an IANA time zone, and the
// instants ("ticks") it fires at. The expression and the zone rules are croner's (docs/
// decisions.md, "Cron: croner"), with fixedTimeRule "no-wildcard" (close to Vixie cron):
// - a fixed-time tick (no `*` and no step in its second, minute and hour fields, e.g.
//   `0 30 2 * * *` or `0 15,45 2 * * *`) in a spring-forward gap fires once, at the first valid
//   instant after the gap; one in a repeated fall-back hour fires once (its first occurrence);
// - an interval schedule (a `*` or step there, e.g. `*/15 * * * *`) follows real time: nothing
//   to make up in a gap, and both passes of a repeated hour are distinct instants, both fired.
// Ticks are whole seconds; every function takes and returns epoch milliseconds.
import { Cron } from 'croner';

export interface ScheduleSpec {
  schedule: string;
  tz: string;
}

/** Why a schedule or zone is unusable (a message naming the part), or undefined when it is fine. */
export function scheduleProblem(spec: ScheduleSpec): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: spec.tz });
  } catch {
    return `tz ${JSON.stringify(spec.tz)} is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`;
  }
  const fields = spec.schedule.trim().split(/\s+/);
  if (!spec.schedule.startsWith('@') && fields.length !== 5 && fields.length !== 6) {
    return `schedule ${JSON.stringify(spec.schedule)} must have 5 fields (minute hour day month weekday) or 6 (second first)`;
  }
  try {
    const c = cronOf(spec);
    // A valid expression that never fires (e.g. 30 February) is refused too.
    if (c.nextRun(new Date(0)) === null) return `schedule ${JSON.stringify(spec.schedule)} never fires`;
  } catch (err) {
    return `schedule ${JSON.stringify(spec.schedule)} is invalid: ${(err as Error).message.replace(/^CronPattern: /, '')}`;
  }
  return undefined;
}

const cache = new Map<string, Cron>();

function cronOf(spec: ScheduleSpec): Cron {
  const key = `${spec.tz}\u0000${spec.schedule}`;
  let c = cache.get(key);
  if (!c) {
    c = new Cron(spec.schedule, { timezone: spec.tz, paused: true, mode: '5-or-6-parts', fixedTimeRule: 'no-wildcard', domAndDow: false });
    if (cache.size > 1000) cache.clear();
    cache.set(key, c);
  }
  return c;
}

/** The first tick strictly after `afterMs`, or undefined if the schedule never fires again. */
export function nextTick(spec: ScheduleSpec, afterMs: number): number | undefined {
  const d = cronOf(spec).nextRun(new Date(afterMs));
  return d ? d.getTime() : undefined;
}

/** Up to `max` ticks in (afterMs, untilMs], oldest first. */
export function ticksBetween(spec: ScheduleSpec, afterMs: number, untilMs: number, max: number): number[] {
  const out: number[] = [];
  let t = afterMs;
  while (out.length < max) {
    const n = nextTick(spec, t);
    if (n === undefined || n > untilMs) break;
    out.push(n);
    t = n;
  }
  return out;
}

/** Up to `max` ticks at or before `untilMs`, newest first (croner's previousRuns; stops at afterMs, exclusive). */
export function ticksBefore(spec: ScheduleSpec, untilMs: number, afterMs: number, max: number): number[] {
  // previousRuns(n, ref) is exclusive of ref: start one ms later so a tick exactly at untilMs counts.
  return cronOf(spec)
    .previousRuns(max, new Date(untilMs + 1))
    .map((d) => d.getTime())
    .filter((t) => t > afterMs && t <= untilMs);
}

/** The next `n` ticks after `afterMs`. */
export function nextTicks(spec: ScheduleSpec, afterMs: number, n: number): number[] {
  return ticksBetween(spec, afterMs, Number.MAX_SAFE_INTEGER, n);
}
