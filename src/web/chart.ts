// The Dashboard's charts, drawn as SVG on the server: no chart library and no script needed for
// the history (it prints, works with JavaScript off and under the strict CSP, whose style-src
// forbids the inline styles most chart libraries set). Colours come from CSS classes. The live
// chart is drawn into the same kind of SVG by public/verk-web.js from the /live stream.
import type { DayStats } from '../api/history.js';
import { html, type Html } from './html.js';

const W = 720;
const H = 180;
const PAD = { left: 48, right: 8, top: 10, bottom: 28 };

/** One pair of bars (processed, failed) per day, with the day's figures as each bar's title. */
export function historyChart(days: DayStats[]): Html {
  const max = Math.max(1, ...days.map((d) => d.processed), ...days.map((d) => d.failed));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, days.length);
  const bw = Math.max(1, slot / 2 - 1);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const bars = days.map((d, i) => {
    const x = PAD.left + i * slot;
    const label =
      i % Math.ceil(days.length / 8) === 0 ? html`<text x="${(x + slot / 2).toFixed(1)}" y="${H - 8}" class="axis" text-anchor="middle">${d.date.slice(5)}</text>` : '';
    return html`<g><title>${d.date}: ${d.processed} processed, ${d.failed} failed</title><rect class="bar-processed" x="${x.toFixed(1)}" y="${y(d.processed).toFixed(1)}" width="${bw.toFixed(1)}" height="${(PAD.top + plotH - y(d.processed)).toFixed(1)}"/><rect class="bar-failed" x="${(x + bw + 1).toFixed(1)}" y="${y(d.failed).toFixed(1)}" width="${bw.toFixed(1)}" height="${(PAD.top + plotH - y(d.failed)).toFixed(1)}"/></g>${label}`;
  });
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="history-title"><title id="history-title">Processed and failed jobs per day, last ${days.length} days (max ${max} a day)</title><line class="axis-line" x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}"/><text x="${PAD.left - 4}" y="${PAD.top + 8}" class="axis" text-anchor="end">${max}</text><text x="${PAD.left - 4}" y="${PAD.top + plotH}" class="axis" text-anchor="end">0</text>${bars}</svg>`;
}

/** The empty frame the live chart is drawn into (processed and failed per poll). */
export function liveChartFrame(): Html {
  return html`<svg class="chart" id="live-chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="live-title"><title id="live-title">Jobs processed and failed per poll since this page opened</title><line class="axis-line" x1="${PAD.left}" y1="${PAD.top + H - PAD.top - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}"/><polyline class="line-processed" points=""/><polyline class="line-failed" points=""/><text class="axis" x="${PAD.left - 4}" y="${PAD.top + 8}" text-anchor="end" data-live-max="1">–</text></svg>`;
}
