// Limits: the cluster-wide limits as Redis holds them now (src/api/limits.ts, docs/limits.md),
// read-only: per limited queue its limit, and per key the slots held / limit, the nodes holding
// them, parked jobs, rate used and the next reopening. The limits come from verk:limits (each node
// records its own at start), so the page needs no config.
import { limitsReport } from '../../api/limits.js';
import type { Page } from '../context.js';
import { time } from '../format.js';
import { html } from '../html.js';
import { href, layout, seg, table } from '../layout.js';

export const limitsPage: Page = async (r) => {
  const p = r.page;
  const report = await limitsReport(r.admin);
  const sections = report.queues.map((q) => {
    const l = q.limit;
    const what = [l.concurrency ? `${l.concurrency} running` : '', l.rate ? `${l.rate} started per ${l.rate_window_ms} ms` : ''].filter(Boolean).join(', ');
    const rows = q.keys.map(
      (k) =>
        html`<tr><td><code>${k.key}</code></td><td class="num">${k.limit ? `${k.held}/${k.limit}` : k.held}</td><td>${Object.entries(k.holders).map(
          ([n, c]) => html`<code>${n}</code>${c > 1 ? ` ×${c}` : ''} `,
        )}</td><td class="num">${k.parked}</td><td class="num">${k.rate_used === null ? '–' : `${k.rate_used}/${l.rate}`}</td><td>${k.next_reopening ? time(Date.parse(k.next_reopening) / 1000) : k.due ? 'due now' : '–'}</td></tr>`,
    );
    return html`<h2><a href="${href(p, `/queues/${seg(q.queue)}`)}">${q.queue}</a></h2>
<p>At most ${what} per ${l.key ? html`key <code>${l.key}</code>` : 'queue'} · ${q.held_total} held · ${q.parked_total} parked${l.source === 'config' ? ' · not yet recorded by a node' : ''}</p>
${table(['Key', 'Held', 'Holders', 'Parked', 'Rate used', 'Next reopening'], rows, 'No key holds a slot or waits.', `Keys of ${q.queue}`)}
${q.truncated ? html`<p class="hint">More keys than shown: <code>verk limits why ${q.queue} &lt;key&gt;</code> shows any one.</p>` : ''}`;
  });
  const body = report.queues.length
    ? html`${sections}<p class="hint">Parked jobs wait for their key, not in <code>queue:&lt;q&gt;</code>; <code>verk limits why &lt;queue&gt; &lt;key&gt;</code> says why a key's next job is not running.</p>`
    : html`<p class="empty">No limits: declare some under <code>limits</code> in the config file (docs/limits.md).</p>`;
  return layout(p, 'Limits', 'Limits', body, { refresh: 'fleet' });
};
