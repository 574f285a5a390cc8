// Every action the dashboard offers, POST only: CSRF-checked and operator-only before it gets
// here (handler.ts), each done through src/api and appended to the audit list with its outcome.
import { appendAudit } from '../api/audit.js';
import { pauseCron, runCron } from '../api/cron.js';
import { selectEntries, type SetName } from '../api/entries.js';
import { signalProcesses, resolveProcesses, UnknownProcessError } from '../api/processes.js';
import { pauseQueue, resumeQueue } from '../api/pause.js';
import { clearQueue, deleteQueueJobs } from '../api/queue-entries.js';
import { entriesByKeys } from '../api/set-page.js';
import { clearSet, deleteEntries, killEntries, requeueEntries } from '../api/sorted-actions.js';
import type { Req } from './context.js';
import { flashQuery } from './flash.js';
import { href, seg } from './layout.js';
import { RETRY_ALL_BOUND, SET_VIEWS } from './pages/sets.js';

export type Action = (r: Req, form: URLSearchParams) => Promise<{ action: string; target: string; result: string; back: string }>;

export const queueAction: Action = async (r, form) => {
  const q = r.params.name;
  const back = `/queues/${seg(q)}`;
  switch (r.params.verb) {
    case 'pause': {
      const res = await pauseQueue(r.admin, q);
      return { action: 'queue.pause', target: q, result: res.changed ? 'paused' : 'already paused', back: '/queues' };
    }
    case 'resume': {
      const res = await resumeQueue(r.admin, q);
      return { action: 'queue.resume', target: q, result: res.changed ? 'resumed' : 'was not paused', back: '/queues' };
    }
    case 'clear': {
      const res = await clearQueue(r.admin, q, false);
      return { action: 'queue.clear', target: q, result: `${res.done} jobs deleted`, back: '/queues' };
    }
    case 'delete': {
      const jids = form.getAll('jid').slice(0, 1000);
      const res = await deleteQueueJobs(r.admin, q, jids, false);
      return { action: 'queue.delete', target: `${q}: ${res.jids.join(' ')}`.slice(0, 2000), result: `${res.done} of ${jids.length} deleted`, back };
    }
  }
  throw new NotFound();
};

export const setAction: Action = async (r, form) => {
  const set = r.params.set as SetName;
  const view = SET_VIEWS[set];
  if (r.params.verb === 'clear') {
    const res = await clearSet(r.admin, set, false);
    return { action: `${set}.clear`, target: set, result: `${res.done} entries deleted`, back: view.path };
  }
  if (r.params.verb === 'retry-all') {
    const { entries, total } = await selectEntries(r.admin, set, { limit: RETRY_ALL_BOUND });
    const res = await requeueEntries(r.admin, set, entries, false);
    const left = total - res.done;
    return {
      action: `${set}.retry-all`,
      target: set,
      result: `${res.done} of ${total} moved to their queues${res.skipped.length ? `, ${res.skipped.length} skipped (malformed or gone)` : ''}${left > 0 ? `; ${left} left` : ''}`,
      back: view.path,
    };
  }
  const verb = form.get('do');
  if (verb !== 'retry' && verb !== 'delete' && !(verb === 'kill' && set !== 'dead')) throw new NotFound();
  const keys = form.getAll('key').slice(0, 1000);
  const { entries, missing } = await entriesByKeys(r.admin, set, keys);
  const res =
    verb === 'retry'
      ? await requeueEntries(r.admin, set, entries, false)
      : verb === 'kill'
        ? await killEntries(r.admin, set as 'retry' | 'schedule', entries, r.settings.dead, false)
        : await deleteEntries(r.admin, set, entries, false);
  const skipped = missing.length + res.skipped.length;
  const done = { retry: 'moved to their queues', kill: 'moved to Dead', delete: 'deleted' }[verb];
  return {
    action: `${set}.${verb}`,
    target: res.jids.join(' ').slice(0, 2000) || keys.join(' ').slice(0, 2000),
    result: `${res.done} of ${keys.length} ${done}${skipped ? `, ${skipped} gone or skipped` : ''}`,
    back: view.path,
  };
};

export const processAction: Action = async (r) => {
  const verb = r.params.verb;
  if (verb !== 'quiet' && verb !== 'stop') throw new NotFound();
  let procs: Awaited<ReturnType<typeof resolveProcesses>>;
  try {
    procs = await resolveProcesses(r.admin, r.params.identity);
  } catch (err) {
    if (!(err instanceof UnknownProcessError)) throw err;
    return { action: `process.${verb}`, target: r.params.identity, result: 'no live process or verk node by that name: nothing sent', back: '/processes' };
  }
  await signalProcesses(
    r.admin,
    procs.map((p) => p.identity),
    verb === 'quiet' ? 'TSTP' : 'TERM',
  );
  return { action: `process.${verb}`, target: r.params.identity, result: `${verb === 'quiet' ? 'TSTP' : 'TERM'} sent`, back: '/processes' };
};

export const cronAction: Action = async (r) => {
  const name = r.params.name;
  const verb = r.params.verb;
  if (verb === 'pause' || verb === 'resume') {
    const res = await pauseCron(r.admin, name, verb === 'pause');
    return {
      action: `cron.${verb}`,
      target: name,
      result: res.changed ? (res.paused ? 'paused' : 'resumed') : `was ${res.paused ? 'paused' : 'not paused'} already`,
      back: '/cron',
    };
  }
  const entry = r.settings.cron.find((e) => e.name === name);
  if (verb !== 'run' || !entry) throw new NotFound();
  const res = await runCron(r.admin, entry, `web:${r.page.principal.who}`);
  return { action: 'cron.run', target: name, result: `enqueued ${res.jid} on ${res.queue}`, back: `/cron/${seg(name)}` };
};

export class NotFound extends Error {
  constructor() {
    super('not found');
  }
}

/** Runs an action, audits it, and redirects back with its outcome. */
export async function runAction(r: Req, form: URLSearchParams, act: Action): Promise<void> {
  const done = await act(r, form);
  await appendAudit(
    r.admin,
    {
      at: new Date().toISOString(),
      who: r.page.principal.who,
      role: r.page.principal.role,
      ip: r.req.socket.remoteAddress ?? '',
      action: done.action,
      target: done.target,
      result: done.result,
    },
    r.settings.auditLength,
  );
  r.res.statusCode = 303;
  r.res.setHeader('Location', href(r.page, done.back, flashQuery(r.page.csrf, `${done.action} ${done.target.slice(0, 200)}: ${done.result}`)));
  r.res.end();
}
