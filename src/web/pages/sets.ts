// Retries, Scheduled and Dead: one page of the sorted set (src/api/set-page.ts) or a search of
// it by class, jid or args substring (bounded: the newest SEARCH_BOUND members), with retry now /
// delete of selected entries and clear of the whole set. Entries are named by "score|jid".
import type { SetName } from '../../api/entries.js';
import { entryJid, toRow } from '../../api/entries.js';
import { entryKey, memberDigest, SEARCH_BOUND, searchSet, setPage } from '../../api/set-page.js';
import { intParam, type Page } from '../context.js';
import { argsPreview, count, time } from '../format.js';
import { html } from '../html.js';
import { action, csrfField, href, isOperator, layout, pager, seg, table } from '../layout.js';

export const SET_PAGE_SIZE = 50;
/** Entries one "Retry all" moves at most; what is left stays for the next click. */
export const RETRY_ALL_BOUND = 10_000;

export interface SetView {
  set: SetName;
  path: string;
  title: string;
  /** What the score means on this page. */
  when: string;
  retryLabel: string;
}

export const SET_VIEWS: Record<SetName, SetView> = {
  retry: { set: 'retry', path: '/retries', title: 'Retries', when: 'Next try', retryLabel: 'Retry now' },
  schedule: { set: 'schedule', path: '/scheduled', title: 'Scheduled', when: 'Runs at', retryLabel: 'Enqueue now' },
  dead: { set: 'dead', path: '/dead', title: 'Dead', when: 'Died', retryLabel: 'Retry now' },
};

export function setPageView(v: SetView): Page {
  return async (r) => {
    const p = r.page;
    const q = (r.url.searchParams.get('q') ?? '').trim().slice(0, 200);
    const offset = intParam(r, 'offset', 0, 0, 1e9);
    const found = q ? await searchSet(r.admin, v.set, q, SET_PAGE_SIZE) : undefined;
    const page = found ? undefined : await setPage(r.admin, v.set, offset, SET_PAGE_SIZE);
    const entries = found?.entries ?? page?.entries ?? [];
    const total = found?.total ?? page?.total ?? 0;
    const op = isOperator(p);
    const rows = entries.map((e) => {
      const row = toRow(e);
      const key = entryKey(e);
      return html`<tr>${op ? html`<td><input type="checkbox" name="key" value="${key}" form="bulk" aria-label="select ${row.jid}"></td>` : ''}<td>${time(row.at)}</td><td><a href="${href(p, `/jobs/${v.set}/${seg(String(e.score))}/${seg(entryJid(e))}`, { m: memberDigest(e.member) })}"><code>${row.jid}</code></a></td><td>${row.class ?? '–'}</td><td>${row.queue ?? '–'}</td><td><code class="args">${argsPreview(row.args)}</code></td><td>${row.error_class ? html`<b>${row.error_class}</b>: ` : ''}${argsPreview(row.error_message, 160)}</td><td class="num">${row.retry_count ?? '–'}</td></tr>`;
    });
    const search = html`<form class="search" method="get" action="${href(p, v.path)}" role="search"><label for="q">Search class, jid or args</label> <input id="q" name="q" type="search" value="${q}" maxlength="200"> <button type="submit">Search</button>${q ? html` <a href="${href(p, v.path)}">clear search</a>` : ''}</form>`;
    const note = found
      ? html`<p class="hint">${found.entries.length} found${found.entries.length >= SET_PAGE_SIZE ? ' (first page shown)' : ''} in the ${v.set === 'dead' ? 'newest' : 'first'} ${count(found.scanned)} of ${count(found.total)} entries${found.truncated ? html` — the search reads at most ${count(SEARCH_BOUND)}; narrow it or use <code>verk ${v.set === 'schedule' ? 'schedule' : v.set} list</code>` : ''}.</p>`
      : html`<p>${count(total)} ${total === 1 ? 'entry' : 'entries'}.</p>`;
    const bulk = op
      ? html`<form id="bulk" method="post" action="${href(p, `${v.path}/bulk`)}">${csrfField(p)}<button type="submit" name="do" value="retry" class="act">${v.retryLabel} (selected)</button> ${v.set === 'dead' ? '' : html`<button type="submit" name="do" value="kill" class="danger" data-confirm="Move the selected entries to Dead?">Kill selected</button> `}<button type="submit" name="do" value="delete" class="danger" data-confirm="Delete the selected entries?">Delete selected</button> <button type="button" class="link" data-select-all="key">select all on this page</button></form>
<p>${action(p, `${v.path}/retry-all`, `${v.retryLabel}: all${total > RETRY_ALL_BOUND ? ` (${count(RETRY_ALL_BOUND)} a click)` : ''}`, { confirm: `Move ${Math.min(total, RETRY_ALL_BOUND)} entries of ${v.title} to their queues?` })} ${action(p, `${v.path}/clear`, `Delete all ${count(total)}`, { confirm: `Delete all ${total} entries of ${v.title}?`, danger: true })}</p>`
      : '';
    const body = html`${search}${note}${bulk}
${table([...(op ? [''] : []), v.when, 'Job', 'Class', 'Queue', 'Args', 'Error', 'Retries'], rows, q ? 'Nothing matches.' : 'Empty.', v.title)}
${found ? '' : pager(p, v.path, offset, SET_PAGE_SIZE, total)}`;
    return layout(p, v.title, v.title, body);
  };
}

export function setPathOf(set: SetName): string {
  return SET_VIEWS[set].path;
}
