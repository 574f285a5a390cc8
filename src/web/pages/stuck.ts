// Stuck: jobs running longer than a threshold on live nodes (src/api/stuck.ts) and in-progress
// or claim lists no registered node owns (src/api/orphans.ts). Requeueing orphans stays a CLI
// command (`verk stuck --requeue-orphans`): an unowned list may belong to a live Elixir node.
import { ORPHAN_REQUEUE_WARNING, orphanLists } from '../../api/orphans.js';
import { stuckJobs } from '../../api/stuck.js';
import { parseDuration } from '../../util/duration.js';
import type { Page } from '../context.js';
import { age, time } from '../format.js';
import { html } from '../html.js';
import { href, layout, seg, table } from '../layout.js';

export const stuckPage: Page = async (r) => {
  const p = r.page;
  const text = r.url.searchParams.get('older') || '5m';
  let olderThanMs = 300_000;
  try {
    olderThanMs = parseDuration(text);
  } catch {
    /* keep 5 minutes */
  }
  const [stuck, orphans] = await Promise.all([stuckJobs(r.admin.redis, r.admin.keys, { olderThanMs }), orphanLists(r.admin.redis, r.admin.keys)]);
  const rows = stuck.jobs.map(
    (j) =>
      html`<tr><td>${j.jid ? html`<a href="${href(p, `/job/${seg(j.jid)}`)}"><code>${j.jid}</code></a>` : '–'}</td><td>${j.class ?? '–'}</td><td>${j.queue}</td><td><code>${j.node}</code></td><td>${j.started_at ? time(Date.parse(j.started_at) / 1000) : '–'}</td><td>${j.running_s === null ? 'unknown' : age(j.running_s)}</td></tr>`,
  );
  const orows = orphans.map(
    (o) => html`<tr><td><code>${o.key}</code></td><td>${o.kind}</td><td>${o.queue}</td><td><code>${o.node}</code></td><td class="num">${o.jobs}</td></tr>`,
  );
  const body = html`<form class="search" method="get" action="${href(p, '/stuck')}"><label for="older">Running at least</label> <input id="older" name="older" value="${text}" size="6"> <button type="submit">Show</button></form>
${table(['Job', 'Class', 'Queue', 'Node', 'Started', 'Running for'], rows, `No job has run longer than ${age(olderThanMs / 1000)}.`, 'Long-running jobs on live nodes')}
${stuck.dead_nodes.length ? html`<p>Registered but dead (awaiting the reaper): ${stuck.dead_nodes.map((n) => html`<code>${n}</code> `)}</p>` : ''}
<h2>Lists nobody owns</h2>
${table(['Key', 'Kind', 'Queue', 'Node', 'Jobs'], orows, 'No orphan lists.', 'Orphan lists')}
${orphans.length ? html`<p class="hint">Hand them back with <code>verk stuck --requeue-orphans</code> — ${ORPHAN_REQUEUE_WARNING}</p>` : ''}`;
  return layout(p, 'Stuck', 'Stuck', body, { refresh: 'fleet' });
};
