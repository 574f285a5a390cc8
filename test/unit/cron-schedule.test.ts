// Periodic schedules in IANA zones with the DST rules of docs/cron.md, on concrete transitions:
// Europe/Berlin (2026-03-29 02:00 CET -> 03:00 CEST, 2026-10-25 03:00 CEST -> 02:00 CET) and
// America/New_York (2026-03-08 02:00 EST -> 03:00 EDT, 2026-11-01 02:00 EDT -> 01:00 EST), plus
// a zone whose gap is at midnight (America/Santiago). A fixed-time tick in a gap fires once at
// the first valid instant; one in a repeated hour fires once; interval schedules follow real time.
// Also the config's errors for bad entries, and the catch-up plan.
import { describe, expect, it } from 'vitest';
import { parseCron } from '../../src/config/cron.js';
import { planTicks } from '../../src/core/cron-plan.js';
import { nextTicks, scheduleProblem, ticksBetween } from '../../src/job/cron-schedule.js';

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const at = (s: string) => Date.parse(s);
const next = (schedule: string, tz: string, from: string, n: number) => nextTicks({ schedule, tz }, at(from), n).map(iso);

describe('DST: Europe/Berlin', () => {
  it('a daily 02:30 in the spring-forward gap fires once, at 03:00 CEST (the first valid instant)', () => {
    expect(next('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', 4)).toEqual([
      '2026-03-28T01:30:00Z', // 02:30 CET
      '2026-03-29T01:00:00Z', // 03:00 CEST: 02:30 does not exist that night
      '2026-03-30T00:30:00Z', // 02:30 CEST
      '2026-03-31T00:30:00Z',
    ]);
  });

  it('two fixed times inside the gap (02:15, 02:45) fire once together at 03:00 CEST', () => {
    expect(next('15,45 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', 3)).toEqual(['2026-03-29T01:00:00Z', '2026-03-30T00:15:00Z', '2026-03-30T00:45:00Z']);
  });

  it('a daily 02:30 in the repeated fall-back hour fires once (02:30 CEST), not again at 02:30 CET', () => {
    expect(next('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 3)).toEqual([
      '2026-10-25T00:30:00Z', // 02:30 CEST, first pass
      '2026-10-26T01:30:00Z', // next day, 02:30 CET
      '2026-10-27T01:30:00Z',
    ]);
  });

  it('a second-level fixed time in the gap (0 30 2, 6 fields) moves to 03:00:00 CEST as well', () => {
    expect(next('0 30 2 * * *', 'Europe/Berlin', '2026-03-29T00:59:59Z', 1)).toEqual(['2026-03-29T01:00:00Z']);
  });

  it('an hourly schedule follows real time: 23 runs on the spring day, 25 on the autumn day', () => {
    const day = (from: string, to: string) => ticksBetween({ schedule: '0 * * * *', tz: 'Europe/Berlin' }, at(from) - 1, at(to) - 1, 100).length;
    expect(day('2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z')).toBe(23);
    expect(day('2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z')).toBe(25);
  });
});

describe('DST: America/New_York', () => {
  it('a daily 02:30 in the gap fires once at 03:00 EDT', () => {
    expect(next('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 3)).toEqual(['2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z', '2026-03-10T06:30:00Z']);
  });

  it('02:00 and 02:30 (both in the gap) fire once, at 03:00 EDT', () => {
    expect(next('0,30 2 * * *', 'America/New_York', '2026-03-08T05:00:00Z', 2)).toEqual(['2026-03-08T07:00:00Z', '2026-03-09T06:00:00Z']);
  });

  it('a daily 01:30 in the repeated hour fires once, at 01:30 EDT', () => {
    expect(next('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2)).toEqual(['2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z']);
  });

  it('01:15 and 01:45 in the repeated hour fire once each (first pass)', () => {
    expect(next('15,45 1 * * *', 'America/New_York', '2026-11-01T04:50:00Z', 3)).toEqual(['2026-11-01T05:15:00Z', '2026-11-01T05:45:00Z', '2026-11-02T06:15:00Z']);
  });

  it('an interval schedule runs through both passes of the repeated hour (distinct instants)', () => {
    expect(next('*/30 * * * *', 'America/New_York', '2026-11-01T04:45:00Z', 5)).toEqual([
      '2026-11-01T05:00:00Z', // 01:00 EDT
      '2026-11-01T05:30:00Z', // 01:30 EDT
      '2026-11-01T06:00:00Z', // 01:00 EST
      '2026-11-01T06:30:00Z', // 01:30 EST
      '2026-11-01T07:00:00Z', // 02:00 EST
    ]);
  });
});

describe('DST: other zones', () => {
  it('America/Santiago (gap at midnight): 00:30 fires at 01:00 -03, the first valid instant', () => {
    expect(next('30 0 * * *', 'America/Santiago', '2026-09-05T12:00:00Z', 2)).toEqual(['2026-09-06T04:00:00Z', '2026-09-07T03:30:00Z']);
  });

  it('UTC has no transitions: every day at 03:00', () => {
    expect(next('0 3 * * *', 'UTC', '2026-03-28T12:00:00Z', 2)).toEqual(['2026-03-29T03:00:00Z', '2026-03-30T03:00:00Z']);
  });
});

describe('schedules and entries that are refused', () => {
  it('names the problem', () => {
    expect(scheduleProblem({ schedule: '0 3 * * *', tz: 'Mars/Olympus' })).toContain('not an IANA time zone');
    expect(scheduleProblem({ schedule: '61 3 * * *', tz: 'UTC' })).toContain('invalid');
    expect(scheduleProblem({ schedule: '* * * *', tz: 'UTC' })).toContain('5 fields');
    expect(scheduleProblem({ schedule: '* * * * * * *', tz: 'UTC' })).toContain('5 fields');
    expect(scheduleProblem({ schedule: '0 0 30 2 *', tz: 'UTC' })).toContain('never fires');
    expect(scheduleProblem({ schedule: '*/5 * * * * *', tz: 'Europe/Berlin' })).toBeUndefined();
  });

  const fail = (why: string): never => {
    throw new Error(why);
  };
  it.each([
    [{ nightly: { class: 'A', schedule: '0 3 * * *', tz: 'Europe/Berlinn' } }, 'entry "nightly": tz "Europe/Berlinn" is not an IANA time zone'],
    [{ nightly: { class: 'A', schedule: '0 3 * *' } }, 'entry "nightly": schedule "0 3 * *" must have 5 fields'],
    [{ nightly: { class: 'A', schedule: '0 3 * * *', catchUp: 'some' } }, 'entry "nightly": catchUp must be one of skip, latest, all'],
    [{ nightly: { class: 'A', schedule: '0 3 * * *', overlap: 'never' } }, 'entry "nightly": overlap must be one of allow, skip-if-running, replace'],
    [{ nightly: { class: 'A', schedule: '0 3 * * *', queu: 'x' } }, 'entry "nightly": unknown field `queu`'],
    [{ nightly: { schedule: '0 3 * * *' } }, 'entry "nightly": class must be a job class name'],
    [{ 'bad name': { class: 'A', schedule: '0 3 * * *' } }, 'entry "bad name": a name may have'],
    [{ nightly: { class: 'A', schedule: '0 3 * * *', args: { a: 1 } } }, 'entry "nightly": args must be an array'],
    [{ nightly: { class: 'A', schedule: '0 3 * * *', catchUpMax: 0 } }, 'entry "nightly": catchUpMax must be a whole number from 1 to 1000'],
    ['{not json', 'must be an object of entries'],
  ])('%j', (value, message) => {
    expect(() => parseCron(value, fail)).toThrow(message);
  });

  it('fills the defaults', () => {
    expect(parseCron({ n: { class: 'A', schedule: ' 0 3 * * * ' } }, fail)).toEqual([
      {
        name: 'n',
        class: 'A',
        args: [],
        queue: 'default',
        schedule: '0 3 * * *',
        tz: 'UTC',
        catchUp: 'latest',
        catchUpMax: 10,
        grace: 60_000,
        overlap: 'allow',
        retry: true,
      },
    ]);
  });
});

describe('catch-up plan', () => {
  const hourly = { schedule: '0 * * * *', tz: 'UTC', catchUpMax: 2, grace: 60_000 };
  const W = at('2026-12-01T00:00:00Z');
  const now = at('2026-12-01T05:00:10Z'); // 01:00..04:00 are late, 05:00 is on time
  const plan = (catchUp: 'skip' | 'latest' | 'all') =>
    planTicks({ ...hourly, catchUp }, W, now, 1000).map((a) => ({ ...a, tickMs: iso(a.tickMs), ...('fromMs' in a ? { fromMs: iso(a.fromMs) } : {}) }));

  it('skip: the late ticks are one missed run; the on-time tick fires', () => {
    expect(plan('skip')).toEqual([
      { mode: 'miss', tickMs: '2026-12-01T04:00:00Z', fromMs: '2026-12-01T01:00:00Z', count: 4, more: false },
      { mode: 'fire', tickMs: '2026-12-01T05:00:00Z' },
    ]);
  });

  it('latest: the newest late tick fires, the older ones are missed', () => {
    expect(plan('latest')).toEqual([
      { mode: 'miss', tickMs: '2026-12-01T03:00:00Z', fromMs: '2026-12-01T01:00:00Z', count: 3, more: false },
      { mode: 'fire', tickMs: '2026-12-01T04:00:00Z' },
      { mode: 'fire', tickMs: '2026-12-01T05:00:00Z' },
    ]);
  });

  it('all: the newest catchUpMax late ticks fire in order, older ones are missed', () => {
    expect(plan('all')).toEqual([
      { mode: 'miss', tickMs: '2026-12-01T02:00:00Z', fromMs: '2026-12-01T01:00:00Z', count: 2, more: false },
      { mode: 'fire', tickMs: '2026-12-01T03:00:00Z' },
      { mode: 'fire', tickMs: '2026-12-01T04:00:00Z' },
      { mode: 'fire', tickMs: '2026-12-01T05:00:00Z' },
    ]);
  });

  it('nothing late: only the ticks since the watermark, none before it', () => {
    expect(planTicks({ ...hourly, catchUp: 'skip' }, at('2026-12-01T05:00:00Z'), now, 1000)).toEqual([]);
    expect(planTicks({ ...hourly, catchUp: 'skip' }, at('2026-12-01T04:59:59Z'), now, 1000)).toEqual([{ mode: 'fire', tickMs: at('2026-12-01T05:00:00Z') }]);
  });

  it('a long outage of an every-second entry is bounded: one missed event with a capped count', () => {
    const p = planTicks({ schedule: '* * * * * *', tz: 'UTC', catchUp: 'latest', catchUpMax: 1, grace: 1000 }, W, W + 86_400_000, 50);
    expect(p[0]).toMatchObject({ mode: 'miss', count: 50, more: true });
    expect(p.filter((a) => a.mode === 'fire')).toHaveLength(2);
  });
});

describe('DST replay: a daily fixed time over 10 years of transitions in several zones', () => {
  // The local time each zone's spring-forward gap covers (Santiago and Tehran jump at midnight;
  // Tehran dropped DST in 2022; Lord Howe moves by 30 minutes, from 02:00).
  const zones: [string, string][] = [
    ['Europe/Berlin', '02:30'],
    ['America/New_York', '02:30'],
    ['America/Santiago', '00:30'],
    ['Australia/Lord_Howe', '02:15'],
    ['Asia/Tehran', '00:30'],
    ['UTC', '02:30'],
  ];
  const wall = (tz: string) => {
    const f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    return (ms: number) => {
      const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
      return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}:${p.second}` };
    };
  };
  it.each(zones)('%s: %s fires exactly once every local day, at that time or, in a gap, at the first instant after it', (tz, hhmm) => {
    const local = wall(tz);
    const ticks = ticksBetween(
      { schedule: `${Number(hhmm.slice(3))} ${Number(hhmm.slice(0, 2))} * * *`, tz },
      at('2020-01-01T00:00:00Z'),
      at('2030-01-01T00:00:00Z'),
      10_000,
    );
    const days = new Map<string, number>();
    let moved = 0;
    for (let i = 0; i < ticks.length; i++) {
      if (i > 0) expect(ticks[i]).toBeGreaterThan(ticks[i - 1]);
      const w = local(ticks[i]);
      days.set(w.date, (days.get(w.date) ?? 0) + 1);
      if (w.time !== `${hhmm}:00`) {
        // Only in a gap: one second earlier the local clock read before 02:30, now after it.
        const before = local(ticks[i] - 1000);
        expect((before.date < w.date || before.time < `${hhmm}:00`) && w.time > `${hhmm}:00`, `${tz} ${new Date(ticks[i]).toISOString()} reads ${w.time}`).toBe(true);
        moved++;
      }
    }
    expect([...days.values()].every((n) => n === 1)).toBe(true);
    // 10 years of local days (leap years included), none left out.
    expect(days.size).toBeGreaterThanOrEqual(3652);
    if (tz === 'UTC') expect(moved).toBe(0);
    if (tz !== 'UTC' && tz !== 'Asia/Tehran') expect(moved).toBe(10);
    if (tz === 'Asia/Tehran') expect(moved).toBe(3);
    console.log(`[measured] ${tz}: ${ticks.length} daily ticks at ${hhmm} 2020-2029, ${moved} moved out of a spring-forward gap`);
  });
});
