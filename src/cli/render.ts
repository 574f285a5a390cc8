// Terminal rendering helpers: colour only on a TTY and never with NO_COLOR; tables; JSON output.
import { Chalk } from 'chalk';
import { colorWanted } from '../config/terminal.js';
import { padToWidth, truncateToWidth, visibleWidth } from './text-width.js';

const c = new Chalk({ level: colorWanted() ? 1 : 0 });

export const paint = {
  red: (s: string) => c.red(s),
  green: (s: string) => c.green(s),
  yellow: (s: string) => c.yellow(s),
  dim: (s: string) => c.dim(s),
  bold: (s: string) => c.bold(s),
};

/** While set (a per-shard run with --json: shard-run.ts), printJson gathers instead of printing. */
let gathering: unknown[] | undefined;

export function printJson(value: unknown): void {
  if (gathering) gathering.push(value);
  else process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Runs `fn`; with `on`, what it passes to printJson is returned instead of printed. */
export async function collectJson(on: boolean, fn: () => Promise<void>): Promise<unknown[]> {
  if (!on) {
    await fn();
    return [];
  }
  const mine: unknown[] = [];
  gathering = mine;
  try {
    await fn();
  } finally {
    gathering = undefined;
  }
  return mine;
}

/**
 * Headers of columns that hold ids an operator copies into another command (`verk show <jid>`,
 * `verk quiet <identity>`): cut only when the other columns at their narrowest still do not fit.
 */
const ID_COLUMNS = new Set(['JID', 'NODE', 'IDENTITY', 'ID']);
/** A cut column keeps at least this many columns (or its header's width, if wider). */
const MIN_CUT_WIDTH = 6;
/** `drop` columns go while the others cannot all keep this many columns (or their own width). */
const COMFORT_WIDTH = 16;
const GAP = 2;

export interface TableOptions {
  /**
   * Headers of columns to leave out, first named first, while the table does not fit with every
   * cuttable column at COMFORT_WIDTH (so a lesser column goes before ids or messages are cut short).
   */
  drop?: string[];
}

/**
 * A plain aligned table (no borders), header in bold on a TTY. Widths are visible widths (colour
 * codes take none, wide characters two). On a TTY the table fits `process.stdout.columns`: the
 * widest other columns are cut first (with `…`), then `drop` columns left out, id columns cut
 * last (docs/cli.md, "Tables"). Piped output is never cut.
 */
export function printTable(headers: string[], rows: (string | number)[][], opts: TableOptions = {}): void {
  const out = process.stdout;
  const maxWidth = out.isTTY && out.columns ? out.columns : undefined;
  for (const line of tableLines(headers, rows, maxWidth, opts)) out.write(line + '\n');
}

/** The table's lines; with `maxWidth`, no line is wider than that where cutting can make it so. */
export function tableLines(headers: string[], rows: (string | number)[][], maxWidth?: number, opts: TableOptions = {}): string[] {
  let cells = rows.map((r) => headers.map((_h, i) => String(r[i] ?? '')));
  let shown = headers;
  const naturalOf = () => shown.map((h, i) => Math.max(visibleWidth(h), ...cells.map((r) => visibleWidth(r[i]))));
  let widths = naturalOf();
  if (maxWidth !== undefined) {
    for (const name of opts.drop ?? []) {
      const at = shown.indexOf(name);
      if (at < 0 || widthAt(COMFORT_WIDTH, shown, widths) <= maxWidth) continue;
      shown = shown.filter((_h, i) => i !== at);
      cells = cells.map((r) => r.filter((_c, i) => i !== at));
      widths = naturalOf();
    }
    widths = fitWidths(shown, widths, maxWidth);
  }
  const line = (r: string[], style: (s: string) => string = (s) => s) =>
    r
      .map((v, i) => padToWidth(style(truncateToWidth(v, widths[i])), widths[i]))
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(shown, paint.bold), ...cells.map((r) => line(r))];
}

/** A cuttable column cut to `cut` columns, but never below its header's width or above its own. */
const cutTo = (cut: number, header: string, natural: number) => Math.min(natural, Math.max(cut, visibleWidth(header)));

/** The table's width with every column but the id columns cut to `cut`. */
function widthAt(cut: number, headers: string[], natural: number[]): number {
  return natural.reduce((sum, w, i) => sum + (ID_COLUMNS.has(headers[i]) ? w : cutTo(cut, headers[i], w)), 0) + GAP * (natural.length - 1);
}

/** Column widths that fit `maxWidth`: the widest cuttable column loses a column at a time. */
export function fitWidths(headers: string[], natural: number[], maxWidth: number): number[] {
  const widths = [...natural];
  const floor = natural.map((w, i) => cutTo(MIN_CUT_WIDTH, headers[i], w));
  let excess = widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1) - maxWidth;
  for (const ids of [false, true]) {
    while (excess > 0) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) {
        if (ID_COLUMNS.has(headers[i]) !== ids || widths[i] <= floor[i]) continue;
        if (widest < 0 || widths[i] > widths[widest]) widest = i;
      }
      if (widest < 0) break;
      widths[widest]--;
      excess--;
    }
  }
  return widths;
}
