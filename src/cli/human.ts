// Human forms used by the node admin commands' tables: whole-second durations ("47s",
// "3m 05s"), times as "2024-05-01 12:00:03Z", and a placeholder for unknown values.

export const BLANK = '-';

/** Seconds as "47s", "3m 05s", "2h 10m", "3d 4h". */
export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return BLANK;
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m ${String(t % 60).padStart(2, '0')}s`;
  if (t < 86_400) return `${Math.floor(t / 3600)}h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(t / 86_400)}d ${Math.floor((t % 86_400) / 3600)}h`;
}

export function ms(v: number | null | undefined): string {
  return v === null || v === undefined ? BLANK : seconds(v / 1000);
}

/** ISO 8601 without milliseconds, e.g. 2024-05-01 12:00:03Z. */
export function time(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : BLANK;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
