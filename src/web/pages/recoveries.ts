// Recoveries: the reapers' history (verk:recoveries, src/api/recoveries.ts): when, who reaped
// which node, the jids requeued and the poison pills buried in dead. ?node= narrows to one node.
import { listRecoveries } from '../../api/recoveries.js';
import { intParam, type Page } from '../context.js';
import { time } from '../format.js';
import { html } from '../html.js';
import { href, layout, seg, table } from '../layout.js';

export const recoveriesPage: Page = async (r) => {
  const p = r.page;
  const node = r.url.searchParams.get('node') ?? '';
  const limit = intParam(r, 'limit', 100, 1, 1000);
  const rep = await listRecoveries(r.admin.redis, r.admin.keys, node ? 1000 : limit);
  const events = node ? rep.events.filter((e) => e.node === node) : rep.events;
  const jidLinks = (jids: string[]) => jids.map((j) => html`<a href="${href(p, `/job/${seg(j)}`)}"><code class="jid">${j}</code></a> `);
  const rows = events.map(
    (e) =>
      html`<tr data-node="${e.node}"><td>${time(e.at)}</td><td><code>${e.node}</code></td><td><code>${e.by}</code></td><td class="num">${e.moved}</td><td>${Object.entries(e.queues).map(([q, n]) => html`${q}: ${n} `)}</td><td class="jids">${jidLinks(e.jids)}${e.moved > e.jids.length ? html`(+${e.moved - e.jids.length} more)` : ''}</td><td class="jids">${e.dead ? html`<span class="status dead">${e.dead} poison</span> ${jidLinks(e.dead_jids)}` : '–'}</td></tr>`,
  );
  const body = html`<p>${rep.total} ${rep.total === 1 ? 'event' : 'events'} stored${node ? html`; showing node <code>${node}</code> (<a href="${href(p, '/recoveries')}">all</a>)` : ''}${rep.unreadable ? html`; ${rep.unreadable} unreadable skipped` : ''}. A job recovered from dead nodes more than maxRecoveries times on which it had started goes to Dead as a poison pill.</p>
${table(['When', 'Node', 'Reaped by', 'Requeued', 'Queues', 'Requeued jids', 'Poison pills'], rows, 'No recoveries recorded.', 'Recovery events')}`;
  return layout(p, 'Recoveries', 'Recoveries', body, { refresh: 'fleet' });
};
