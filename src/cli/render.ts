// Terminal rendering helpers: colour only on a TTY and never with NO_COLOR; tables; JSON output.
import { Chalk } from 'chalk';
import { colorWanted } from '../config/terminal.js';

const c = new Chalk({ level: colorWanted() ? 1 : 0 });

export const paint = {
  red: (s: string) => c.red(s),
  green: (s: string) => c.green(s),
  yellow: (s: string) => c.yellow(s),
  dim: (s: string) => c.dim(s),
  bold: (s: string) => c.bold(s),
};

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** A plain aligned table (no borders), header in bold on a TTY. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((v) => String(v)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) =>
    r
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  process.stdout.write(paint.bold(line(headers)) + '\n');
  for (const r of cells) process.stdout.write(line(r) + '\n');
}
