// How wide text is on a terminal: ANSI escape sequences (colour) take no columns, combining marks
// and format characters none, East Asian wide and fullwidth characters and emoji two, everything
// else one (a grapheme cluster counts once). And cutting text to a width with `…`, keeping its
// escape sequences so a colour that is opened is also closed.

// CSI (colours, cursor) and OSC (links, titles: ended by BEL or ESC \) sequences.
// biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences begin with ESC, a control character
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
const ZERO_WIDTH = /^(?:\p{Mn}|\p{Me}|\p{Cf}|\p{Cc})+$/u;
const EMOJI = /\p{Extended_Pictographic}/u;
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Code point ranges East Asian Width calls W or F (the common blocks, not the whole table). */
const WIDE: [number, number][] = [
  [0x1100, 0x115f], // Hangul Jamo initials
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2e80, 0x303e], // CJK radicals, punctuation
  [0x3041, 0x33ff], // kana, CJK compatibility
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f], // CJK compatibility forms
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f], // pictographs, emoticons
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd], // CJK extensions B and later
];

function isWide(cp: number): boolean {
  for (const [lo, hi] of WIDE) {
    if (cp < lo) return false;
    if (cp <= hi) return true;
  }
  return false;
}

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Columns one grapheme cluster takes. */
function graphemeWidth(g: string): number {
  if (ZERO_WIDTH.test(g)) return 0;
  const cp = g.codePointAt(0) ?? 0;
  if (isWide(cp)) return 2;
  // An emoji shown as one: a pictograph with its emoji presentation selector or joined ones.
  if (EMOJI.test(g) && (g.includes('\uFE0F') || g.includes('\u200D'))) return 2;
  return 1;
}

/** The columns `text` takes on a terminal. */
export function visibleWidth(text: string): number {
  const plain = stripAnsi(text);
  // Printable ASCII, the usual case, is one column a character.
  if (/^[\x20-\x7e]*$/.test(plain)) return plain.length;
  let width = 0;
  for (const { segment } of segmenter.segment(plain)) width += graphemeWidth(segment);
  return width;
}

/**
 * `text` cut to at most `width` columns, ending in `…` when cut. Escape sequences are kept, also
 * those after the cut (a colour's closing code), so nothing bleeds into the next cell.
 */
export function truncateToWidth(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  if (width <= 0) return (text.match(ANSI) ?? []).join('');
  let out = '';
  let used = 0;
  let full = false;
  let last = 0;
  const take = (plain: string) => {
    for (const { segment } of segmenter.segment(plain)) {
      const w = graphemeWidth(segment);
      if (full || used + w > width - 1) {
        if (!full) out += '…';
        full = true;
        return;
      }
      out += segment;
      used += w;
    }
  };
  for (const m of text.matchAll(ANSI)) {
    take(text.slice(last, m.index));
    out += m[0];
    last = m.index + m[0].length;
  }
  take(text.slice(last));
  return out;
}

/** `text` padded with spaces to `width` columns. */
export function padToWidth(text: string, width: number): string {
  const w = visibleWidth(text);
  return w >= width ? text : text + ' '.repeat(width - w);
}
