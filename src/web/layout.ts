// The page shell every page shares: navigation, the live figures in the header (filled by public/verk-web.js from
// the /live stream), a flash message, and helpers for links and action forms that respect the
// mount path and carry the CSRF token. Read-only users see no action buttons (and the server
// refuses their POSTs anyway).
import { VERSION } from '../version.js';
import type { Principal } from './auth.js';
import { CSRF_FIELD } from './csrf.js';
import { html, type Html, type Value } from './html.js';

export interface PageCtx {
  /** The mount path, '' or '/admin/verk' (no trailing slash). */
  base: string;
  csrf: string;
  principal: Principal;
  /** Show a logout button (the principal came with a session cookie). */
  canLogout: boolean;
  flash?: string;
}

const NAV: { path: string; label: string }[] = [
  { path: '/', label: 'Dashboard' },
  { path: '/nodes', label: 'Nodes' },
  { path: '/processes', label: 'Processes' },
  { path: '/queues', label: 'Queues' },
  { path: '/retries', label: 'Retries' },
  { path: '/scheduled', label: 'Scheduled' },
  { path: '/dead', label: 'Dead' },
  { path: '/recoveries', label: 'Recoveries' },
  { path: '/stuck', label: 'Stuck' },
  { path: '/cron', label: 'Cron' },
  { path: '/limits', label: 'Limits' },
  { path: '/audit', label: 'Audit' },
];

/** A link target under the mount path, with an optional query. */
export function href(p: Pick<PageCtx, 'base'>, path: string, query?: Record<string, string | number | undefined>): string {
  const q = query
    ? new URLSearchParams(
        Object.entries(query)
          .filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '')
          .map(([k, v]) => [k, String(v)]),
      ).toString()
    : '';
  return `${p.base}${path}${q ? `?${q}` : ''}`;
}

/** A path segment (queue name, jid, identity) safe in a URL. */
export const seg = (s: string): string => encodeURIComponent(s);

export const isOperator = (p: PageCtx): boolean => p.principal.role === 'operator';

/** A POST form with one button; `confirm` asks first (public/verk-web.js). Nothing for read-only users. */
export function action(p: PageCtx, path: string, label: string, o: { confirm?: string; fields?: Record<string, string>; danger?: boolean; id?: string } = {}): Html {
  if (!isOperator(p)) return html``;
  const fields = Object.entries(o.fields ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);
  return html`<form class="inline" method="post" action="${href(p, path)}"${o.confirm ? html` data-confirm="${o.confirm}"` : ''}${o.id ? html` id="${o.id}"` : ''}><input type="hidden" name="${CSRF_FIELD}" value="${p.csrf}">${fields}<button type="submit" class="${o.danger ? 'danger' : 'act'}">${label}</button></form>`;
}

/** The hidden CSRF field, for forms a page builds itself. */
export const csrfField = (p: PageCtx): Html => html`<input type="hidden" name="${CSRF_FIELD}" value="${p.csrf}">`;

export function layout(p: PageCtx, title: string, active: string, body: Value, o: { refresh?: 'fleet' } = {}): Html {
  return html`<!doctype html>
<html lang="en" data-base="${p.base}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · verk</title>
<link rel="stylesheet" href="${href(p, '/assets/verk-web.css')}">
<script src="${href(p, '/assets/verk-web.js')}" defer></script>
</head>
<body>
<header class="top">
<a class="brand" href="${href(p, '/')}">verk</a>
<nav aria-label="Pages"><ul>${NAV.map((n) =>
    n.label === active ? html`<li><a href="${href(p, n.path)}" aria-current="page">${n.label}</a></li>` : html`<li><a href="${href(p, n.path)}">${n.label}</a></li>`,
  )}</ul></nav>
<p class="live" aria-live="off">processed <b data-live="processed">–</b> · failed <b data-live="failed">–</b> · retries <b data-live="retry">–</b> · dead <b data-live="dead">–</b> · nodes <b data-live="nodes">–</b> <span class="dot" data-live-state="off" title="live updates">●</span></p>
</header>
<main id="main"${o.refresh ? html` data-refresh="${o.refresh}"` : ''}>
${p.flash ? html`<p class="flash" role="status">${p.flash}</p>` : ''}
<h1>${title}</h1>
${body}
</main>
<footer><span>verk ${VERSION}</span> · <span>signed in as ${p.principal.who} (${p.principal.role === 'operator' ? 'operator' : 'read-only'})</span>${
    p.canLogout
      ? html` · <form class="inline" method="post" action="${href(p, '/logout')}">${csrfField(p)}<button type="submit" class="link">log out</button></form>`
      : ''
  }</footer>
</body>
</html>
`;
}

/** Previous/next links for a paged list. */
export function pager(p: PageCtx, path: string, offset: number, limit: number, total: number, query: Record<string, string | undefined> = {}): Html {
  if (total <= limit && offset === 0) return html``;
  const prev = offset > 0 ? html`<a href="${href(p, path, { ...query, offset: Math.max(0, offset - limit) })}" rel="prev">← previous</a>` : '';
  const next = offset + limit < total ? html`<a href="${href(p, path, { ...query, offset: offset + limit })}" rel="next">next →</a>` : '';
  return html`<nav class="pager" aria-label="Pages of this list">${prev} <span>${offset + 1}–${Math.min(offset + limit, total)} of ${total}</span> ${next}</nav>`;
}

/** A table, or a line saying it is empty. */
export function table(head: string[], rows: Html[], empty: string, caption?: string): Html {
  if (rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<div class="scroll"><table>${caption ? html`<caption>${caption}</caption>` : ''}<thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;
}
