// The route table: method, path pattern (below the mount path) and what answers it. GET routes
// are pages; POST routes are actions (operator only, CSRF-checked, audited).
import { cronAction, processAction, queueAction, setAction, type Action } from './actions.js';
import type { Page } from './context.js';
import { auditPage } from './pages/audit.js';
import { cronEntryPage, cronPage } from './pages/cron.js';
import { dashboardPage } from './pages/dashboard.js';
import { findJobPage, setEntryPage } from './pages/job.js';
import { nodesPage } from './pages/nodes.js';
import { processesPage } from './pages/processes.js';
import { queuePageView, queuesPage } from './pages/queues.js';
import { recoveriesPage } from './pages/recoveries.js';
import { SET_VIEWS, setPageView } from './pages/sets.js';
import { stuckPage } from './pages/stuck.js';
import { limitsPage } from './pages/limits.js';

interface Route<T> {
  pattern: RegExp;
  names: string[];
  run: T;
  /** Fixed route parameters (the set of /retries/bulk). */
  fixed?: Record<string, string>;
}

function route<T>(path: string, run: T, fixed?: Record<string, string>): Route<T> {
  const names: string[] = [];
  const pattern = new RegExp(
    `^${path.replace(/:([a-z]+)/g, (_, n: string) => {
      names.push(n);
      return '([^/]+)';
    })}$`,
  );
  return { pattern, names, run, fixed };
}

const SETS = Object.values(SET_VIEWS);

export const PAGES: Route<Page>[] = [
  route('/', dashboardPage),
  route('/nodes', nodesPage),
  route('/processes', processesPage),
  route('/queues', queuesPage),
  route('/queues/:name', queuePageView),
  ...SETS.map((v) => route(v.path, setPageView(v))),
  route('/jobs/:set/:score/:jid', setEntryPage),
  route('/job/:jid', findJobPage),
  route('/recoveries', recoveriesPage),
  route('/stuck', stuckPage),
  route('/limits', limitsPage),
  route('/audit', auditPage),
  route('/cron', cronPage),
  route('/cron/:name', cronEntryPage),
];

export const ACTIONS: Route<Action>[] = [
  route('/queues/:name/:verb', queueAction),
  route('/processes/:identity/:verb', processAction),
  route('/cron/:name/:verb', cronAction),
  ...SETS.flatMap((v) => [
    route(`${v.path}/bulk`, setAction, { set: v.set }),
    route(`${v.path}/clear`, setAction, { set: v.set, verb: 'clear' }),
    route(`${v.path}/retry-all`, setAction, { set: v.set, verb: 'retry-all' }),
  ]),
];

export function match<T>(routes: Route<T>[], path: string): { run: T; params: Record<string, string> } | undefined {
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = { ...r.fixed };
    try {
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
    } catch {
      return undefined;
    }
    if (params.set !== undefined && !Object.hasOwn(SET_VIEWS, params.set)) return undefined;
    return { run: r.run, params };
  }
  return undefined;
}
