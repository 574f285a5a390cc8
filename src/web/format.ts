// How the dashboard writes times, ages, sizes and job arguments.

/** "4.2 s", "3 min", "2 h 5 min", "3 d". */
export function age(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, seconds);
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.round(s / 86_400)} d`;
}

/** Epoch seconds → "2026-12-01 13:05:07 UTC". */
export function time(epochS: number | null | undefined): string {
  if (epochS === null || epochS === undefined || !Number.isFinite(epochS)) return '–';
  return `${new Date(epochS * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** A size in bytes, as MB (a node's rss is written in bytes). */
export function megabytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '–';
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

/** Args shown in a table cell: their own text, cut at `max` characters with the length said. */
export function argsPreview(args: string | null | undefined, max = 200): string {
  if (args === null || args === undefined) return '–';
  return args.length > max ? `${args.slice(0, max)}… (${args.length} characters)` : args;
}
