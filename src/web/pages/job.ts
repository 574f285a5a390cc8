// One job: an entry of retry/schedule/dead named by score and jid (its payload exactly as
// stored, error, backtrace, retry now / delete), or a jid looked up everywhere (src/api/find-job.ts:
// queues, in-progress lists, the three sets; bounded).
import { ATTEMPTS_KEPT, attemptsOf, type Attempt } from '../../job/codec.js';
import type { SetName } from '../../api/entries.js';
import { toRow } from '../../api/entries.js';
import { backtrace, findJobConcurrently, type JobMatch } from '../../api/find-job.js';
import { entriesByKeys, entryKey } from '../../api/set-page.js';
import type { Page } from '../context.js';
import { time } from '../format.js';
import { html, type Html } from '../html.js';
import { action, href, layout, seg, table } from '../layout.js';
import { SET_VIEWS } from './sets.js';

export const setEntryPage: Page = async (r) => {
  const p = r.page;
  const set = r.params.set as SetName;
  const view = SET_VIEWS[set];
  // ?m= is the member's digest (set-page.ts entryKey): of entries sharing the score and jid, this one.
  const m = r.url.searchParams.get('m');
  const { entries } = await entriesByKeys(r.admin, set, [`${r.params.score}|${r.params.jid}${m ? `|m:${m}` : ''}`]);
  const e = entries[0];
  if (!e) {
    r.res.statusCode = 404;
    return layout(
      p,
      'Job not found',
      view.title,
      html`<p>No entry <code>${r.params.jid}</code> in ${view.title} at that time: it has moved on. <a href="${href(p, `/job/${seg(r.params.jid)}`)}">Look for it everywhere</a>.</p>`,
    );
  }
  const row = toRow(e);
  const key = entryKey(e);
  const lines = backtrace(e.job?.data.error_backtrace);
  const body = html`<dl class="facts"><dt>Where</dt><dd>${view.title} (<code>${set}</code>), ${view.when.toLowerCase()} ${time(row.at)}</dd><dt>jid</dt><dd><code>${row.jid}</code></dd><dt>Class</dt><dd>${row.class ?? '–'}</dd><dt>Queue</dt><dd>${row.queue ?? '–'}</dd><dt>Retry count</dt><dd>${row.retry_count ?? '–'}</dd><dt>Enqueued</dt><dd>${time(row.enqueued_at)}</dd><dt>Failed at</dt><dd>${time(row.failed_at)}</dd><dt>Retried at</dt><dd>${time(row.retried_at)}</dd><dt>Error</dt><dd>${row.error_class ? html`<b>${row.error_class}</b>: ` : ''}${row.error_message ?? '–'}</dd></dl>
<p>${action(p, `${view.path}/bulk`, view.retryLabel, { fields: { key, do: 'retry' } })} ${set === 'dead' ? '' : html`${action(p, `${view.path}/bulk`, 'Kill', { fields: { key, do: 'kill' }, confirm: 'Move this job to Dead (no more retries)?', danger: true })} `}${action(p, `${view.path}/bulk`, 'Delete', { fields: { key, do: 'delete' }, confirm: 'Delete this entry?', danger: true })}</p>
<h2>Args</h2><pre class="payload">${row.args}</pre>
${attemptsTable(e.job ? attemptsOf(e.job.data) : [], 'h2')}
${lines ? html`<h2>Backtrace</h2><pre class="payload">${lines.join('\n')}</pre>` : ''}
<h2>Payload as stored</h2><pre class="payload">${e.member.toString('utf8')}</pre>`;
  return layout(p, `Job ${row.jid}`, view.title, body);
};

export const findJobPage: Page = async (r) => {
  const p = r.page;
  const jid = r.params.jid;
  const report = await findJobConcurrently(r.admin, jid);
  const body = html`<p>${report.matches.length} ${report.matches.length === 1 ? 'copy' : 'copies'} found; ${report.scanned} entries looked at${report.truncated.length ? html`; not fully read (too long): ${report.truncated.join(', ')}` : ''}.</p>${report.matches.map((m) => match(r.page, m))}`;
  return layout(p, `Job ${jid}`, '', body);
};

function match(p: Parameters<typeof href>[0], m: JobMatch): Html {
  const where =
    m.where === 'in_progress'
      ? html`in progress on node <code>${m.node}</code> (queue ${m.queue})`
      : m.where === 'queue'
        ? html`waiting in queue <a href="${href(p, `/queues/${seg(m.queue ?? '')}`)}">${m.queue}</a>`
        : html`in <code>${m.where}</code> (${time(m.at)})`;
  return html`<section class="match"><h2>${where}</h2><dl class="facts"><dt>Class</dt><dd>${m.class ?? '–'}</dd><dt>Retry count</dt><dd>${m.retry_count ?? '–'}</dd><dt>Enqueued</dt><dd>${time(m.enqueued_at)}</dd><dt>Error</dt><dd>${m.error_class ? html`<b>${m.error_class}</b>: ` : ''}${m.error_message ?? '–'}</dd>${m.unique ? html`<dt>Unique lock</dt><dd><code>${m.unique.key}</code> until ${m.unique.until}: ${m.unique.holder === null ? 'free' : m.unique.holder === (m.payload as { jid?: unknown }).jid ? 'held by this job' : html`held by <code>${m.unique.holder}</code>`}</dd>` : ''}</dl>
<h3>Args</h3><pre class="payload">${m.args ?? '–'}</pre>
${attemptsTable(m.attempts, 'h3')}
${m.error_backtrace ? html`<h3>Backtrace</h3><pre class="payload">${m.error_backtrace.join('\n')}</pre>` : ''}
<h3>Payload as stored</h3><pre class="payload">${m.raw}</pre></section>`;
}

/** The failed attempts verk kept (`verk_attempts`, oldest first; Sidekiq keeps only the last error). */
function attemptsTable(attempts: Attempt[], level: 'h2' | 'h3') {
  if (attempts.length === 0) return '';
  const title = html`Attempts (${attempts.length}, the last ${ATTEMPTS_KEPT} kept)`;
  return html`${level === 'h2' ? html`<h2>${title}</h2>` : html`<h3>${title}</h3>`}${table(
    ['Failed at', 'Error'],
    attempts.map((a) => html`<tr><td>${time(a.at)}</td><td><b>${a.error_class}</b>: ${a.error_message}</td></tr>`),
    '',
    'Failed attempts',
  )}`;
}
