// Dashboard: the cluster's totals (src/api/stats.ts), a live chart fed by the /live stream and
// the per-day history from stat:processed:<day> / stat:failed:<day> (src/api/history.ts).
import { dailyHistory } from '../../api/history.js';
import { readStats } from '../../api/stats.js';
import { historyChart, liveChartFrame } from '../chart.js';
import type { Page } from '../context.js';
import { count } from '../format.js';
import { html } from '../html.js';
import { href, layout } from '../layout.js';

export const HISTORY_DAYS = 30;

export const dashboardPage: Page = async (r) => {
  const [s, days] = await Promise.all([readStats(r.admin), dailyHistory(r.admin, HISTORY_DAYS)]);
  const p = r.page;
  // [label, figure, page, the live snapshot's field that updates it]
  const tiles: [string, number, string, string?][] = [
    ['Processed', s.processed, '/', 'processed'],
    ['Failed', s.failed, '/', 'failed'],
    ['Busy', s.busy, '/processes'],
    ['Enqueued', s.enqueued, '/queues'],
    ['Retries', s.retry, '/retries', 'retry'],
    ['Scheduled', s.schedule, '/scheduled', 'schedule'],
    ['Dead', s.dead, '/dead', 'dead'],
    ['Nodes alive', s.nodes, '/nodes'],
    ['Processes', s.processes, '/processes'],
  ];
  const body = html`
${s.warnings.map((w) => html`<p class="warning" role="alert">${w}</p>`)}
<ul class="tiles">${tiles.map(([label, n, path, live]) => html`<li><a href="${href(p, path)}"><span class="n"${live ? html` data-live="${live}"` : ''}>${count(n)}</span><span class="l">${label}</span></a></li>`)}</ul>
<section aria-labelledby="live-h"><h2 id="live-h">Live</h2>
<p class="hint">Jobs processed (blue) and failed (red) in each poll since this page opened; one Redis poll per server feeds every open tab.</p>
${liveChartFrame()}</section>
<section aria-labelledby="hist-h"><h2 id="hist-h">History</h2>
<p class="hint">Per UTC day, from <code>stat:processed:&lt;day&gt;</code> and <code>stat:failed:&lt;day&gt;</code>.</p>
${historyChart(days)}
<details><summary>Figures</summary><div class="scroll"><table><thead><tr><th scope="col">Day</th><th scope="col">Processed</th><th scope="col">Failed</th></tr></thead><tbody>${days
    .slice()
    .reverse()
    .map((d) => html`<tr><td>${d.date}</td><td class="num">${count(d.processed)}</td><td class="num">${count(d.failed)}</td></tr>`)}</tbody></table></div></details>
</section>`;
  return layout(p, 'Dashboard', 'Dashboard', body);
};
