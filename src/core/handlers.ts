// The handler registry: loads every job module under the handlers directory once, at start.
// A job's class is only ever looked up here — job data never becomes an import path.
// Two files for one class (Foo.js beside Foo.ts) are a configuration error naming both; a file
// that fails to load makes its class's jobs fail with HandlerLoadError carrying the load error.
import fs from 'node:fs';
import path from 'node:path';
import { importModule } from '../util/import-module.js';
import { normalizeClass } from '../job/names.js';

export { normalizeClass };
import type { Logger } from '../util/logger.js';
import { parseTimerDuration } from '../util/duration.js';
import { ConfigError } from '../util/errors.js';
import { ERROR_CLASS } from '../job/error-classes.js';
import { describeLoadError } from '../util/syntax-error.js';

export interface JobContext {
  jid: string;
  queue: string;
  class: string;
  /** Failures so far (undefined before the first failure), as in Sidekiq's retry_count. */
  retryCount: number | undefined;
  /** The worker node running it (as in `verk nodes` and the recovery history). */
  node: string;
  /** Aborts when the job times out, the node loses its lease, or shutdown hands the job back. */
  signal: AbortSignal;
  log: Logger;
  /** The payload exactly as read from Redis. */
  raw: string;
}

export type Perform = (args: unknown[], ctx: JobContext) => unknown;

export interface HandlerOptions {
  queue?: string;
  /** true = default retries, false = drop on failure, N = retry N times. */
  retry?: boolean | number;
  /** ms or a duration string; 0 = none. */
  timeout?: number | string;
  /** Seconds to wait before retry number `count` (0-based); default is Sidekiq's formula. */
  backoff?: (count: number, error: Error) => number;
}

export interface Handler {
  className: string;
  file: string;
  perform: Perform;
  queue?: string;
  retry?: boolean | number;
  timeoutMs?: number;
  backoff?: (count: number, error: Error) => number;
}

export interface LoadError {
  file: string;
  className: string;
  error: string;
}

export interface HandlerRegistry {
  get(className: string): Handler | undefined;
  list(): Handler[];
  errors: LoadError[];
  /**
   * Why a job of this class cannot run: HandlerLoadError (message: file + load error) when its
   * file failed to load, else UnknownJobClass. Use it when get() returned undefined.
   */
  failureFor(className: string): Error;
}

/** Classes that more than one handler file provides (e.g. Foo.js beside Foo.ts). */
export interface HandlerConflict {
  className: string;
  files: string[];
}

const EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);

/** The class name a file provides: jobs/Mailers/Welcome.ts → Mailers.Welcome. */
export function classNameFor(dir: string, file: string): string {
  const rel = path.relative(dir, file);
  return rel
    .slice(0, rel.length - path.extname(rel).length)
    .split(path.sep)
    .join('.');
}

export function findHandlerFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      // Names starting with '.' or '_' are helpers shared by handlers, not handlers.
      if (entry.name.startsWith('.') || entry.name.startsWith('_') || entry.name === 'node_modules') continue;
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (EXTENSIONS.has(path.extname(entry.name)) && !/\.d\.[cm]?ts$/.test(entry.name) && !/\.(test|spec)\.[cm]?[jt]s$/.test(entry.name)) out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

export function findHandlerConflicts(dir: string, files = findHandlerFiles(dir)): HandlerConflict[] {
  const byClass = new Map<string, string[]>();
  for (const file of files) {
    const name = classNameFor(dir, file);
    byClass.set(name, [...(byClass.get(name) ?? []), file]);
  }
  return [...byClass].filter(([, f]) => f.length > 1).map(([className, f]) => ({ className, files: f }));
}

/** The ConfigError (exit 78) for conflicts, naming every file; undefined when there are none. */
export function handlerConflictError(conflicts: HandlerConflict[]): ConfigError | undefined {
  if (conflicts.length === 0) return undefined;
  const lines = conflicts.map((c) => `class ${c.className} is provided by ${c.files.length} files: ${c.files.join(', ')}`);
  return new ConfigError(`handlers: ${lines.join('; ')} — keep one file per class (delete or rename the others, e.g. a stale compiled .js beside its .ts)`);
}

/** Loads every handler file; throws a ConfigError when two files provide one class. */
export async function loadHandlers(dir: string, log: Logger): Promise<HandlerRegistry> {
  const files = findHandlerFiles(dir);
  const conflict = handlerConflictError(findHandlerConflicts(dir, files));
  if (conflict) throw conflict;
  const handlers = new Map<string, Handler>();
  const errors: LoadError[] = [];
  for (const file of files) {
    const className = classNameFor(dir, file);
    try {
      const mod = await importModule(file);
      handlers.set(className, toHandler(className, file, mod));
    } catch (err) {
      const error = await describeLoadError(err, file);
      errors.push({ file, className, error });
      log.error('handler module failed to load; its jobs will fail until it is fixed', { file, error });
    }
  }
  return {
    get: (name) => handlers.get(normalizeClass(name)),
    list: () => [...handlers.values()],
    errors,
    failureFor: (name) => failureFor(dir, errors, name),
  };
}

function failureFor(dir: string, errors: LoadError[], name: string): Error {
  const broken = errors.find((e) => e.className === normalizeClass(name));
  const err = broken ? new Error(`handler file ${broken.file} failed to load: ${broken.error}`) : new Error(`no handler for class ${name} in ${dir}`);
  err.name = broken ? ERROR_CLASS.HandlerLoadError : ERROR_CLASS.UnknownJobClass;
  return err;
}

function toHandler(className: string, file: string, mod: Record<string, unknown>): Handler {
  const def = mod.default as Record<string, unknown> | ((...a: unknown[]) => unknown) | undefined;
  const perform =
    (typeof mod.perform === 'function' && mod.perform) ||
    (typeof def === 'function' && def) ||
    (def && typeof def === 'object' && typeof def.perform === 'function' && def.perform) ||
    undefined;
  if (!perform) throw new Error('exports no perform(args, ctx) function (export it by name or as the default export)');
  const options = (mod.options ?? (def && typeof def === 'object' ? def.options : undefined) ?? {}) as HandlerOptions;
  if (typeof options !== 'object') throw new Error('`options` must be an object');
  const timeoutMs = options.timeout === undefined ? undefined : parseTimerDuration(options.timeout);
  if (options.retry !== undefined && typeof options.retry !== 'boolean' && !(Number.isInteger(options.retry) && options.retry >= 0)) {
    throw new Error('options.retry must be true, false or a whole number');
  }
  return { className, file, perform: perform as Perform, queue: options.queue, retry: options.retry, timeoutMs, backoff: options.backoff };
}
