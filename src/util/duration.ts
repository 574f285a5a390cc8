// Parses durations given as milliseconds (number or digits) or as "250ms", "5s", "10m", "1h", "2d",
// and bounds the ones that become timers (Node fires a timer above 2^31−1 ms after 1 ms).

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;

/** The longest delay setTimeout/setInterval honour (2^31−1 ms, 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;
/** How MAX_TIMER_MS reads in error messages. */
export const MAX_TIMER_TEXT = `at most 24.8 days (${MAX_TIMER_MS}ms)`;

/** Returns milliseconds, or throws an Error whose message says what is accepted. */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  } else if (typeof value === 'string') {
    const m = PATTERN.exec(value);
    if (m) return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']);
  }
  throw new Error(`${JSON.stringify(value)} is not a duration (use milliseconds or e.g. "250ms", "5s", "10m", "1h")`);
}

/** parseDuration for a value that becomes a timer: also refuses anything above MAX_TIMER_MS. */
export function parseTimerDuration(value: unknown): number {
  const ms = parseDuration(value);
  if (ms > MAX_TIMER_MS) throw new Error(`${JSON.stringify(value)} is too long: a timer must be ${MAX_TIMER_TEXT}`);
  return ms;
}

/** Human form of a duration in ms, e.g. 1500 → "1.5s", 7 days → "7d". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)}m`;
  if (ms < 86_400_000) return `${+(ms / 3_600_000).toFixed(1)}h`;
  return `${+(ms / 86_400_000).toFixed(1)}d`;
}
