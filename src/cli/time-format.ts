// Human forms of times and sizes for tables: "3m ago", "in 12s", "1.5s"; full values stay in --json.
import { truncateToWidth } from './text-width.js';

/** Epoch seconds relative to `nowS`: "in 5m", "2h ago", "-" when absent. */
export function relative(epochS: number | null | undefined, nowS: number): string {
  if (epochS === null || epochS === undefined) return '-';
  const d = epochS - nowS;
  const text = span(Math.abs(d));
  return d >= 0 ? `in ${text}` : `${text} ago`;
}

/** A duration in seconds: "850ms", "12s", "3m", "5h", "2d". */
export function span(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${Math.round(seconds * 10) / 10}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

/** Cuts text to `max` terminal columns with an ellipsis; newlines become spaces. */
export function truncate(text: string, max: number): string {
  return truncateToWidth(text.replace(/\s*\n\s*/g, ' '), max);
}
