// The bookkeeping of Sidekiq's daily counters (src/runner/daily-stats.ts): totals summed from the
// worker processes' counters (executions = successes + failures), the UTC date of the key, what
// is due after a failed or a lost flush, and replies that never move the book back; and the
// bounded args preview a worker process reports for Sidekiq's Busy page (src/job/args-preview.ts).
import { describe, expect, it } from 'vitest';
import { DailyStatsBook, dailyTotals, STATS_TTL_S, utcDate } from '../../src/runner/daily-stats.js';
import { emptyCounters } from '../../src/runner/job-totals.js';
import { ARGS_PREVIEW_MAX, argsPreview } from '../../src/job/args-preview.js';

const counters = (processed: number, failed: number) => ({ ...emptyCounters(), processed, failed });

describe('daily counters: bookkeeping', () => {
  it("sums executions (acked + failed) and failures over exited and live processes; Sidekiq's 5-year TTL", () => {
    expect(dailyTotals([counters(3, 1), counters(10, 0), counters(0, 2)])).toEqual({ processed: 16, failed: 3 });
    expect(dailyTotals([])).toEqual({ processed: 0, failed: 0 });
    expect(STATS_TTL_S).toBe(157_680_000);
  });

  it('names the day in UTC, as Sidekiq does', () => {
    expect(utcDate(Date.UTC(2026, 0, 31, 23, 59, 59))).toBe('2026-01-31');
    expect(utcDate(Date.UTC(2026, 1, 1, 0, 0, 0))).toBe('2026-02-01');
  });

  it('is due only when something new was settled; a failed flush leaves everything due for the next', () => {
    const book = new DailyStatsBook();
    expect(book.due({ processed: 0, failed: 0 })).toBeUndefined();
    const first = book.due({ processed: 5, failed: 1 });
    expect(first).toEqual({ processed: 5, failed: 1 });
    // The flush failed: nothing confirmed, the next beat sends the larger totals (nothing lost).
    expect(book.confirmed).toEqual({ processed: 0, failed: 0 });
    expect(book.due({ processed: 8, failed: 1 })).toEqual({ processed: 8, failed: 1 });
    book.confirm({ processed: 8, failed: 1 });
    expect(book.confirmed).toEqual({ processed: 8, failed: 1 });
    expect(book.due({ processed: 8, failed: 1 })).toBeUndefined();
    expect(book.due({ processed: 8, failed: 2 })).toEqual({ processed: 8, failed: 2 });
  });

  it('a late reply of an older flush never moves the book back', () => {
    const book = new DailyStatsBook();
    book.confirm({ processed: 8, failed: 2 });
    book.confirm({ processed: 5, failed: 1 });
    expect(book.confirmed).toEqual({ processed: 8, failed: 2 });
  });

  it('hands out copies (a caller cannot change the book)', () => {
    const book = new DailyStatsBook();
    const due = book.due({ processed: 1, failed: 0 })!;
    book.confirmed.processed = 99;
    due.processed = 99;
    expect(book.confirmed).toEqual({ processed: 0, failed: 0 });
  });
});

describe('args preview for the Busy page', () => {
  it("is the args' exact text: big integers, escapes and spacing kept", () => {
    expect(argsPreview('{"class":"A","args":[1, "two", {"big":12345678901234567890}],"jid":"x"}')).toBe('[1, "two", {"big":12345678901234567890}]');
    expect(argsPreview('{"args":["\\u00e9"]}')).toBe('["\\u00e9"]');
  });

  it("follows the codec's args rule: verk's string-encoded array unwrapped, missing or {} as []", () => {
    expect(argsPreview('{"class":"A","args":"[1,2]"}')).toBe('[1,2]');
    expect(argsPreview('{"class":"A"}')).toBe('[]');
    expect(argsPreview('{"class":"A","args":{}}')).toBe('[]');
    expect(argsPreview('{"class":"A","args":"not json"}')).toBe('[]');
    expect(argsPreview('not a payload')).toBe('[]');
  });

  it('truncates large args to a bounded two-string array that says how long they were', () => {
    const big = 'x'.repeat(200 * 1024);
    const out = argsPreview(`{"class":"A","args":["${big}"]}`);
    expect(out.length).toBeLessThan(ARGS_PREVIEW_MAX + 200);
    const parsed = JSON.parse(out);
    expect(parsed).toHaveLength(2);
    expect(parsed[0]).toBe(`(args truncated by verk: ${big.length + 4} characters; the first ${ARGS_PREVIEW_MAX} follow)`);
    expect(parsed[1]).toBe(`["${'x'.repeat(ARGS_PREVIEW_MAX - 2)}…`);
    // At the bound exactly: passed on as is.
    const exact = `["${'y'.repeat(ARGS_PREVIEW_MAX - 4)}"]`;
    expect(argsPreview(`{"args":${exact}}`)).toBe(exact);
  });

  it('stays valid JSON when the cut falls inside a surrogate pair', () => {
    const text = `["${'😀'.repeat(ARGS_PREVIEW_MAX)}"]`;
    const out = argsPreview(`{"args":${text}}`);
    expect(() => JSON.parse(out)).not.toThrow();
    expect(JSON.parse(out)[1].length).toBe(ARGS_PREVIEW_MAX + 1);
  });
});
