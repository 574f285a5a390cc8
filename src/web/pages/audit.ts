// Audit: the dashboard's own action log (verk:web:audit, src/api/audit.ts), newest first.
import { listAudit } from '../../api/audit.js';
import type { Page } from '../context.js';
import { html } from '../html.js';
import { layout, table } from '../layout.js';

export const auditPage: Page = async (r) => {
  const { total, entries } = await listAudit(r.admin, 200);
  const rows = entries.map(
    (e) => html`<tr><td>${e.at}</td><td>${e.who}</td><td>${e.role}</td><td>${e.ip}</td><td><code>${e.action}</code></td><td>${e.target}</td><td>${e.result}</td></tr>`,
  );
  const body = html`<p>${total} ${total === 1 ? 'action' : 'actions'} kept in <code>verk:web:audit</code> (newest 200 shown).</p>${table(['When', 'Who', 'Role', 'From', 'Action', 'Target', 'Result'], rows, 'No actions yet.', 'Audit log')}`;
  return layout(r.page, 'Audit', 'Audit', body);
};
