// Nodes: every registered verk node (src/api/nodes.ts) with its status, heartbeat age against
// its TTL, jobs in progress and queues; below, the departed ones read off the recovery history
// ("reaped by X at T, N jobs recovered", src/api/departed.ts), the fencing rejections so far, and
// the timeline of joins, exits, fencing and reaps (src/api/fleet-events.ts).
// Reloads itself (the main part) when the fleet changes (a node joins or is reaped, a write is fenced).
import { departedNodes } from '../../api/departed.js';
import { fencingRejections } from '../../api/fencing.js';
import { listFleetEvents } from '../../api/fleet-events.js';
import { listNodes, type NodeRow } from '../../api/nodes.js';
import { listRecoveries } from '../../api/recoveries.js';
import type { Page } from '../context.js';
import { age, count, megabytes, time } from '../format.js';
import { html } from '../html.js';
import { href, layout, seg, table } from '../layout.js';

/** Recovery events read to find departed nodes. */
const DEPARTED_EVENTS = 200;
/** Events shown in the timeline. */
const TIMELINE_EVENTS = 50;

export const nodesPage: Page = async (r) => {
  const p = r.page;
  const [report, rec, fenced] = await Promise.all([
    listNodes(r.admin.redis, r.admin.keys),
    listRecoveries(r.admin.redis, r.admin.keys, DEPARTED_EVENTS),
    fencingRejections(r.admin),
  ]);
  // The timeline's reaps are the newest of the recovery events just read (DEPARTED_EVENTS >= TIMELINE_EVENTS).
  const timeline = await listFleetEvents(r.admin, rec, TIMELINE_EVENTS);
  const departed = departedNodes(rec.events, new Set(report.nodes.map((n) => n.id)));
  const alive = report.nodes.filter((n) => n.alive).length;
  const rows = report.nodes.map(
    (n) =>
      html`<tr class="${n.alive ? 'ok' : 'bad'}" data-node="${n.id}"><td><code>${n.id}</code></td><td><span class="status ${n.alive ? 'alive' : 'dead'}">${status(n)}</span></td><td>${heartbeat(n)}</td><td class="num">${count(n.in_progress)}</td><td>${n.queues.map((q) => html`<a href="${href(p, `/queues/${seg(q)}`)}">${q}</a> `)}</td><td>${n.identity ? html`<a href="${href(p, '/processes')}">${n.identity}</a>` : '–'}</td><td>${n.host ?? '–'}${n.pid ? html` · pid ${n.pid}` : ''}</td><td>${n.state ?? '–'}</td><td>${megabytes(n.rss)}</td><td>${n.version ?? '–'}</td></tr>`,
  );
  const gone = departed.map(
    (d) =>
      html`<tr class="departed" data-node="${d.node}"><td><code>${d.node}</code></td><td><span class="status departed">departed</span></td><td>reaped by <code>${d.by}</code> at ${time(d.at)}, ${d.moved} ${d.moved === 1 ? 'job' : 'jobs'} recovered${d.dead ? html`, ${d.dead} buried as poison pills` : ''}</td><td><a href="${href(p, '/recoveries', { node: d.node })}">recovered jids</a></td></tr>`,
  );
  const body = html`<p>${report.nodes.length} registered: ${alive} alive, ${report.nodes.length - alive} dead. Redis time ${report.redis_time}.</p>
${table(['Node', 'Status', 'Heartbeat', 'In progress', 'Queues', 'Process', 'Host', 'State', 'RSS', 'Version'], rows, 'No registered nodes.', 'Registered nodes')}
<h2>Fencing</h2>
<p id="fencing"><b data-live="fenced">${count(fenced)}</b> late ${fenced === 1 ? 'write' : 'writes'} refused (<code>verk:stat:fenced</code>): results a node sent for jobs it no longer held — it had been reaped while still alive (paused, partitioned) and its jobs recovered — so they were not applied twice.</p>
<h2>Departed</h2>
<p class="hint">Nodes a reaper recovered, from the last ${DEPARTED_EVENTS} recovery events.</p>
${table(['Node', 'Status', 'What happened', ''], gone, 'No departed nodes in the recovery history.', 'Departed nodes')}
<h2>Timeline</h2>
<p class="hint">The newest ${TIMELINE_EVENTS} events of the fleet on Redis's clock: nodes that joined, left, exited or were fenced (<code>verk:events</code>, written by their supervisors) and reaped (<code>verk:recoveries</code>)${timeline.unreadable ? html`; ${timeline.unreadable} unreadable skipped` : ''}.</p>
${table(
  ['When', 'Event', 'Node', 'By', 'Detail'],
  timeline.events.map(
    (e) =>
      html`<tr data-event="${e.kind}" data-event-node="${e.node}"><td>${time(e.at / 1000)}</td><td><span class="status ${e.kind === 'joined' ? 'alive' : e.kind === 'left' ? 'departed' : 'dead'}">${e.kind}</span></td><td><code>${e.node}</code></td><td><code>${e.by || '–'}</code></td><td>${e.detail || '–'}</td></tr>`,
  ),
  'No events recorded yet.',
  'Fleet timeline',
)}`;
  return layout(p, 'Nodes', 'Nodes', body, { refresh: 'fleet' });
};

function status(n: NodeRow): string {
  if (n.alive) return 'alive';
  return n.reaping ? 'dead (reaping)' : 'dead (awaiting the reaper)';
}

function heartbeat(n: NodeRow) {
  if (!n.alive) return html`<span>last beat ${age(n.last_beat_s)} ago; key expired</span>`;
  const ttl = n.ttl_ms === null ? null : n.ttl_ms / 1000;
  const total = n.last_beat_s !== null && ttl !== null ? n.last_beat_s + ttl : null;
  return html`<span>${age(n.last_beat_s)} ago</span>${total ? html` <meter min="0" max="${total.toFixed(1)}" value="${(n.last_beat_s ?? 0).toFixed(1)}" aria-label="heartbeat age against TTL"></meter> <span class="hint">TTL ${age(total)}, ${age(ttl)} left</span>` : ''}`;
}
