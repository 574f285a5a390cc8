// Unit tests for src/cli/text-width.ts and the table fitting in src/cli/render.ts: colour codes
// take no columns, wide characters two; a cut keeps closing codes; a fitted table is no wider than
// the terminal, its columns line up, ids stay whole while other columns can be cut or dropped.
import { describe, expect, it } from 'vitest';
import { fitWidths, tableLines } from '../../src/cli/render.js';
import { padToWidth, stripAnsi, truncateToWidth, visibleWidth } from '../../src/cli/text-width.js';
import { cellStarts } from '../helpers/table-cells.js';

const RED = (s: string) => `\x1b[31m${s}\x1b[39m`;
const LINK = (s: string) => `\x1b]8;;https://example.com\x07${s}\x1b]8;;\x07`;

describe('visibleWidth', () => {
  it.each([
    ['', 0],
    ['plain ascii', 11],
    [RED('boom'), 4],
    [`\x1b[1m${RED('x')}\x1b[22m`, 1],
    [LINK('docs'), 4],
    ['日本語', 6],
    ['ｆｕｌｌ', 8],
    ['한국어', 6],
    ['😀', 2],
    ['👩‍💻', 2],
    ['❤️', 2],
    ['é', 1],
    ['e\u0301', 1],
    ['a\u200bb', 2],
    ['Ωmega', 5],
  ])('%j is %i columns', (text, width) => {
    expect(visibleWidth(text)).toBe(width);
  });
});

describe('truncateToWidth / padToWidth', () => {
  it('leaves text that fits alone', () => {
    expect(truncateToWidth('abc', 3)).toBe('abc');
    expect(truncateToWidth(RED('abc'), 3)).toBe(RED('abc'));
  });

  it('cuts to the width with …, keeping the closing colour code', () => {
    expect(truncateToWidth('abcdef', 4)).toBe('abc…');
    const cut = truncateToWidth(RED('abcdef'), 4);
    expect(cut).toBe(RED('abc…'));
    expect(visibleWidth(cut)).toBe(4);
  });

  it('never splits a wide character or a grapheme', () => {
    const cut = truncateToWidth('日本語テキスト', 6);
    expect(cut).toBe('日本…');
    expect(visibleWidth(cut)).toBe(5);
    expect(truncateToWidth('ab👩‍💻cd', 4)).toBe('ab…');
    expect(truncateToWidth('e\u0301e\u0301e\u0301', 2)).toBe('e\u0301…');
  });

  it('pads by visible width', () => {
    expect(padToWidth(RED('ab'), 4)).toBe(`${RED('ab')}  `);
    expect(padToWidth('日本', 6)).toBe('日本  ');
    expect(padToWidth('abcdef', 3)).toBe('abcdef');
  });
});

const HEADERS = ['JID', 'CLASS', 'QUEUE', 'ARGS', 'ERROR', 'RETRIES', 'NEXT RETRY'];
const ROWS = [1, 2, 3].map((i) => [
  `abcdef0123456789abcdef0${i}`,
  'Mailers.Welcome',
  'default',
  `[{"user":${i},"note":"日本語のテキスト and a long tail"}]`,
  RED(`Error: connect ECONNREFUSED 127.0.0.1:5432 while sending mail 😀 ${i}`),
  i,
  'in 5m',
]);

describe('tableLines', () => {
  it('without a width: every column as wide as its widest cell, aligned by visible width', () => {
    const lines = tableLines(HEADERS, ROWS);
    const starts = cellStarts(lines[0]);
    expect(starts).toHaveLength(HEADERS.length);
    for (const l of lines) expect(cellStarts(l)).toEqual(starts);
    expect(stripAnsi(lines[1])).toContain('while sending mail 😀 1');
  });

  it.each([200, 120, 100, 80, 60])('fitted to %i columns: no line wider, columns aligned, jids whole', (width) => {
    const lines = tableLines(HEADERS, ROWS, width, { drop: ['QUEUE', 'RETRIES'] });
    const starts = cellStarts(lines[0]);
    for (const l of lines) {
      expect(visibleWidth(l)).toBeLessThanOrEqual(width);
      expect(cellStarts(l)).toEqual(starts);
    }
    for (const [i, l] of lines.slice(1).entries()) expect(stripAnsi(l).startsWith(`abcdef0123456789abcdef0${i + 1}  `)).toBe(true);
    // The red error cell is closed after its cut.
    for (const l of lines.slice(1)) expect(l.lastIndexOf('\x1b[39m')).toBeGreaterThan(l.lastIndexOf('\x1b[31m'));
  });

  it('drops the named columns, first named first, only while the rest cannot keep 16 columns each', () => {
    const shown = (width: number) => stripAnsi(tableLines(HEADERS, ROWS, width, { drop: ['QUEUE', 'RETRIES'] })[0]).split(/\s{2,}/);
    expect(shown(200)).toEqual(HEADERS);
    expect(shown(100)).toEqual(HEADERS.filter((h) => h !== 'QUEUE'));
    expect(shown(80)).toEqual(HEADERS.filter((h) => h !== 'QUEUE' && h !== 'RETRIES'));
  });

  it('cuts an id column only when every other column is at its narrowest', () => {
    const natural = [24, 15, 40, 50, 10];
    const headers = ['JID', 'CLASS', 'ARGS', 'ERROR', 'NEXT RETRY'];
    expect(fitWidths(headers, natural, 80)).toEqual([24, 12, 13, 13, 10]);
    expect(fitWidths(headers, natural, 60)).toEqual([24, 6, 6, 6, 10]);
    expect(fitWidths(headers, natural, 50)).toEqual([14, 6, 6, 6, 10]);
    expect(fitWidths(headers, natural, 500)).toEqual(natural);
  });
});
