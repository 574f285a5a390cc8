// What a page or an action gets: the request, its path below the mount path and route
// parameters, the page context (mount path, CSRF token, who is asking) and the admin connection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminContext } from '../api/admin-context.js';
import type { DeadBounds } from '../api/sorted-actions.js';
import type { CronEntry } from '../config/cron.js';
import type { Html } from './html.js';
import type { PageCtx } from './layout.js';

export interface WebSettings {
  /** Entries kept in verk:web:audit. */
  auditLength: number;
  /** How a Kill trims the dead set (the workers' deadTimeout and deadMaxJobs). */
  dead: DeadBounds;
  /** The periodic jobs of the config the server was started with (their definitions live there). */
  cron: readonly CronEntry[];
}

export interface Req {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  page: PageCtx;
  admin: AdminContext;
  settings: WebSettings;
}

/** A page renders to HTML; it may instead answer itself (a redirect) and return undefined. */
export type Page = (r: Req) => Promise<Html | undefined>;

/** An integer query parameter within bounds. */
export function intParam(r: Req, name: string, def: number, min: number, max: number): number {
  const v = Number(r.url.searchParams.get(name) ?? def);
  return Number.isInteger(v) ? Math.min(max, Math.max(min, v)) : def;
}
