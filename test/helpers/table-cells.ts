// Reading a printed table back in tests: the terminal column each cell of a line starts at.
import { stripAnsi, visibleWidth } from '../../src/cli/text-width.js';

/** The column each cell of a table line starts at (cells are separated by 2+ spaces). */
export function cellStarts(line: string): number[] {
  const starts: number[] = [];
  let col = 0;
  let spaces = 2;
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(stripAnsi(line))) {
    if (segment === ' ') spaces++;
    else {
      if (spaces >= 2) starts.push(col);
      spaces = 0;
    }
    col += visibleWidth(segment);
  }
  return starts;
}
