// Processes (Busy): each `verk work` supervisor (and Sidekiq process) from Sidekiq's registry
// with its verk nodes (src/api/process-report.ts) and the jobs running in it with their args and
// age (src/api/busy-jobs.ts); operators can quiet or stop a process (Sidekiq's remote signals).
import { busyJobs } from '../../api/busy-jobs.js';
import { processesReport } from '../../api/process-report.js';
import type { Page } from '../context.js';
import { age, argsPreview, time } from '../format.js';
import { html } from '../html.js';
import { action, href, layout, seg, table } from '../layout.js';

export const processesPage: Page = async (r) => {
  const p = r.page;
  const report = await processesReport(r.admin);
  const now = Date.parse(report.redis_time) / 1000;
  const jobs = await busyJobs(
    r.admin,
    report.processes.map((x) => x.identity),
  );
  const procs = report.processes.map((x) => {
    const own = jobs.filter((j) => j.identity === x.identity);
    // A verk supervisor always owns a registered node while it runs: none left means it died and
    // its entry waits for its 60 s TTL (Sidekiq's ghost process); its running jobs are stale.
    const ghost = x.verk && x.nodes.length === 0 && (x.last_beat_s ?? 0) > 2;
    const badge = ghost
      ? html`<span class="status dead">silent: its nodes are gone</span>`
      : html`<span class="status ${x.state === 'running' ? 'alive' : 'quiet'}">${x.state}</span>`;
    return html`<section class="process" aria-label="${x.identity}"><h2><code>${x.identity}</code> ${badge}</h2>${
      ghost
        ? html`<p class="warning">No registered node belongs to this process: it has probably died (the reaper recovers its nodes' jobs; Sidekiq's registry forgets it within 60 s). The jobs below are its last report.</p>`
        : ''
    }
<p>${x.hostname ?? '–'} · pid ${x.pid ?? '–'} · started ${time(x.started_at)} · last beat ${age(x.last_beat_s)} ago · busy ${x.busy} of ${x.concurrency ?? '–'} · queues ${x.queues.join(', ') || '–'} ${x.labels.map((l) => html`<span class="label">${l}</span>`)}</p>
<p>${action(p, `/processes/${seg(x.identity)}/quiet`, 'Quiet', { confirm: `Stop ${x.identity} fetching new jobs?` })} ${action(p, `/processes/${seg(x.identity)}/stop`, 'Stop', { confirm: `Stop ${x.identity} (graceful, TERM)?`, danger: true })}</p>
${table(
  ['Node', 'Status', 'pid', 'State', 'Busy', 'In progress', 'Queues'],
  x.nodes.map(
    (n) =>
      html`<tr><td><code>${n.id}</code></td><td>${n.alive ? 'alive' : 'dead'}</td><td>${n.pid ?? '–'}</td><td>${n.state ?? '–'}</td><td class="num">${n.busy ?? '–'}</td><td class="num">${n.in_progress}</td><td>${n.queues.join(', ')}</td></tr>`,
  ),
  'No verk nodes (a Sidekiq process, or its nodes have not reported yet).',
  'Worker nodes',
)}
${table(
  ['Job', 'Class', 'Queue', 'Args', 'Running for'],
  own.map(
    (j) =>
      html`<tr><td>${j.jid ? html`<a href="${href(p, `/job/${seg(j.jid)}`)}"><code>${j.jid}</code></a>` : html`<code>${j.tid}</code>`}</td><td>${j.class ?? '–'}</td><td>${j.queue ?? '–'}</td><td><code class="args">${argsPreview(j.args)}</code></td><td>${age(j.run_at === null ? null : now - j.run_at)}</td></tr>`,
  ),
  'No running jobs.',
  'Running jobs',
)}</section>`;
  });
  const body = html`<p>${report.processes.length} live ${report.processes.length === 1 ? 'process' : 'processes'}, ${jobs.length} running ${jobs.length === 1 ? 'job' : 'jobs'}.</p>${procs.length ? procs : html`<p class="empty">No live processes.</p>`}`;
  return layout(p, 'Processes', 'Processes', body, { refresh: 'fleet' });
};
