// Parses durations given as milliseconds (number or digits) or as "250ms", "5s", "10m", "1h", "2d".

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;

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

/** Human form of a duration in ms, e.g. 1500 → "1.5s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)}m`;
  return `${+(ms / 3_600_000).toFixed(1)}h`;
}
