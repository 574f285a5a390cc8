// Queues: every known queue with size, latency and paused flag (src/api/queues.ts), pause/resume
// and clear; one queue's jobs page by page (src/api/queue-page.ts) with delete of selected jobs.
import { isPaused } from '../../api/pause.js';
import { queuePage } from '../../api/queue-page.js';
import { listQueues } from '../../api/queues.js';
import { intParam, type Page } from '../context.js';
import { age, argsPreview, count, time } from '../format.js';
import { html } from '../html.js';
import { action, csrfField, href, isOperator, layout, pager, seg, table } from '../layout.js';

export const PAGE_SIZE = 50;

export const queuesPage: Page = async (r) => {
  const p = r.page;
  const queues = await listQueues(r.admin);
  const rows = queues.map(
    (q) =>
      html`<tr data-queue="${q.name}"><td><a href="${href(p, `/queues/${seg(q.name)}`)}">${q.name}</a></td><td class="num">${count(q.size)}</td><td>${age(q.latency)}</td><td>${q.paused ? html`<span class="status quiet">paused</span>` : 'no'}</td><td>${
        q.paused ? action(p, `/queues/${seg(q.name)}/resume`, 'Resume') : action(p, `/queues/${seg(q.name)}/pause`, 'Pause')
      } ${action(p, `/queues/${seg(q.name)}/clear`, 'Clear', { confirm: `Delete all ${q.size} jobs of ${q.name}?`, danger: true })}</td></tr>`,
  );
  return layout(p, 'Queues', 'Queues', table(['Queue', 'Size', 'Latency', 'Paused', isOperator(p) ? 'Actions' : ''], rows, 'No queues.', 'Queues'));
};

export const queuePageView: Page = async (r) => {
  const p = r.page;
  const name = r.params.name;
  const offset = intParam(r, 'offset', 0, 0, 1e9);
  const [{ size, entries }, paused] = await Promise.all([queuePage(r.admin, name, offset, PAGE_SIZE), isPaused(r.admin, name)]);
  const op = isOperator(p);
  const rows = entries.map(
    (e) =>
      html`<tr>${op ? html`<td><input type="checkbox" name="jid" value="${e.jid}" form="bulk" aria-label="select ${e.jid}"></td>` : ''}<td class="num">${e.position}</td><td><a href="${href(p, `/job/${seg(e.jid)}`)}"><code>${e.jid}</code></a></td><td>${e.class ?? '–'}${e.malformed ? html` <span class="status dead">malformed</span>` : ''}</td><td><code class="args">${argsPreview(e.args)}</code></td><td>${time(e.enqueued_at)}</td></tr>`,
  );
  const bulk = op
    ? html`<form id="bulk" method="post" action="${href(p, `/queues/${seg(name)}/delete`)}" data-confirm="Delete the selected jobs?">${csrfField(p)}<button type="submit" class="danger">Delete selected</button> <button type="button" class="link" data-select-all="jid">select all on this page</button></form>`
    : '';
  const state = paused ? html`<span class="status quiet">paused</span> no node fetches from it.` : html`position 0 is fetched next.`;
  const toggle = paused ? action(p, `/queues/${seg(name)}/resume`, 'Resume') : action(p, `/queues/${seg(name)}/pause`, 'Pause');
  const body = html`<p>${count(size)} ${size === 1 ? 'job' : 'jobs'}; ${state} ${toggle}</p>
${bulk}
${table([...(op ? [''] : []), 'Position', 'Job', 'Class', 'Args', 'Enqueued'], rows, 'This queue is empty.', `Jobs of ${name}`)}
${pager(p, `/queues/${seg(name)}`, offset, PAGE_SIZE, size)}`;
  return layout(p, `Queue ${name}`, 'Queues', body);
};
