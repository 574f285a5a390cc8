// Cron: the periodic jobs (src/api/cron.ts, docs/cron.md): each entry of the config beside its
// state in Redis (last tick and what it did, the next tick, paused), and one entry's bounded
// tick history (fired with its jid and lag, skipped with why, missed). Run now, Pause and Resume
// for operators. The definitions come from the config the server was started with; an entry
// Redis knows but that config does not declare is listed with its state only.
import { cronHistory, listCron } from '../../api/cron.js';
import type { Page } from '../context.js';
import { time } from '../format.js';
import { html } from '../html.js';
import { action, href, layout, seg, table } from '../layout.js';

export const cronPage: Page = async (r) => {
  const p = r.page;
  const list = await listCron(r.admin, r.settings.cron);
  const rows = list.entries.map((e) => {
    const base = `/cron/${seg(e.name)}`;
    const actions = e.in_config
      ? html`${action(p, `${base}/run`, 'Run now', { confirm: `Enqueue ${e.name}'s job now?` })} ${e.paused ? action(p, `${base}/resume`, 'Resume') : action(p, `${base}/pause`, 'Pause')}`
      : html`<span class="hint">not in this server's config</span>`;
    return html`<tr data-entry="${e.name}"><td><a href="${href(p, base)}"><code>${e.name}</code></a></td><td><code>${e.schedule ?? '–'}</code></td><td>${e.tz ?? '–'}</td><td>${e.class ?? '–'}</td><td>${e.queue ?? '–'}</td><td>${e.paused ? html`<span class="status dead">paused</span>` : 'active'}</td><td>${time(e.last_tick ? Date.parse(e.last_tick) / 1000 : undefined)}</td><td>${e.last_outcome ?? '–'}</td><td>${time(e.next_tick ? Date.parse(e.next_tick) / 1000 : undefined)}</td><td>${actions}</td></tr>`;
  });
  const body = html`<p>Periodic jobs decided by every supervisor from Redis's clock, one job per tick (docs/cron.md). Redis time ${time(Date.parse(list.redis_time) / 1000)}.</p>
${table(['Entry', 'Schedule', 'Time zone', 'Class', 'Queue', 'State', 'Last tick', 'Last outcome', 'Next tick', ''], rows, 'No periodic jobs: declare them under `cron` in the config file.', 'Periodic jobs')}`;
  return layout(p, 'Cron', 'Cron', body);
};

export const cronEntryPage: Page = async (r) => {
  const p = r.page;
  const name = r.params.name;
  const hist = await cronHistory(r.admin, name, 100);
  const rows = hist.events.map(
    (e) =>
      html`<tr><td>${time(e.tick ? Date.parse(e.tick) / 1000 : undefined)}</td><td>${e.outcome}</td><td>${e.jid ? html`<a href="${href(p, `/job/${seg(e.jid)}`)}"><code class="jid">${e.jid}</code></a>` : '–'}</td><td class="num">${e.lag_ms ?? '–'}</td><td>${e.reason ?? (e.count !== null ? `${e.count} ticks` : '–')}</td><td><code>${e.by ?? '–'}</code></td></tr>`,
  );
  const body = html`<p><a href="${href(p, '/cron')}">All periodic jobs</a>. The newest 100 events of <code>${name}</code>${hist.unreadable ? html`; ${hist.unreadable} unreadable skipped` : ''}.</p>
${table(['Tick', 'Outcome', 'Job', 'Lag (ms)', 'Why / how many', 'Decided by'], rows, 'No ticks recorded yet.', `Tick history of ${name}`)}`;
  return layout(p, `Cron ${name}`, 'Cron', body);
};
