// Turns the summary into the markdown table printed at the end (each figure, the ratio
// verk/peer, and the target with ✅/❌).

const fmt = (x, digits = 0) => {
  if (x === undefined || x === null || Number.isNaN(x)) return '–';
  return Number(x).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
};
const ratio = (a, b) => (a > 0 && b > 0 ? a / b : NaN);
const r2 = (x) => (Number.isNaN(x) ? '–' : `${x.toFixed(2)}×`);
const mark = (ok) => (ok === undefined ? '' : ok ? ' ✅' : ' ❌');

/**
 * rows: [{ label, verk, bullmq, bee, digits, target?: (rBull, rBee, v) => [text, ok] }]
 * Each row's values are numbers (or undefined); ratios are verk/peer.
 */
export function markdownTable(rows) {
  const out = ['| metric | verk | BullMQ | Bee-Queue | verk/BullMQ | verk/Bee-Queue | target |', '|---|---:|---:|---:|---:|---:|---|'];
  for (const row of rows) {
    const rb = ratio(row.verk, row.bullmq);
    const re = ratio(row.verk, row.bee);
    let target = '';
    if (row.target) {
      const [text, ok] = row.target(rb, re, row);
      target = `${text}${mark(ok)}`;
    }
    out.push(`| ${row.label} | ${fmt(row.verk, row.digits)} | ${fmt(row.bullmq, row.digits)} | ${fmt(row.bee, row.digits)} | ${r2(rb)} | ${r2(re)} | ${target} |`);
  }
  return out.join('\n');
}

/** Target checks from issue 7 (NaN ratios = not measured → no verdict). */
export const targets = {
  throughput: (rb, re) => ['≥1.5× BullMQ, ≥1.0× Bee-Queue', Number.isNaN(rb) || Number.isNaN(re) ? undefined : rb >= 1.5 && re >= 1.0],
  commands: (_rb, _re, row) => ['≤ 6', row.verk === undefined ? undefined : row.verk <= 6],
  p50: (_rb, re) => ['≤ 1.0× Bee-Queue', Number.isNaN(re) ? undefined : re <= 1.0],
  p99: (_rb, re) => ['≤ 2.0× Bee-Queue', Number.isNaN(re) ? undefined : re <= 2.0],
  bulk: (_rb, re) => ['≥ 1.0× Bee-Queue', Number.isNaN(re) ? undefined : re >= 1.0],
};
