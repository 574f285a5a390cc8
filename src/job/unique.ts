// Unique jobs (docs/unique-jobs.md): the handler option `unique: { key, until }`, checked once
// with errors that name the field, the lock a job's args give (`key` a function of the args or a
// declarative path such as 'args[0].account'), and the lock a payload carries ("verk_unique").
import { parseDuration, MAX_TIMER_MS } from '../util/duration.js';

/** `until`: released when the job starts, when it is done (acked, dead, dropped, deleted), or after a ttl. */
export type UniqueUntil = 'started' | 'done' | { ttl: string | number };

/** A handler's `options.unique` (also accepted by Client#enqueue as `unique`). */
export interface UniqueOption {
  /** The lock's key from the job's args (used as it is), or a path into them (prefixed with the class). */
  key: string | ((args: unknown[]) => unknown);
  /** Default 'done'. */
  until?: UniqueUntil;
}

/** The lock a job carries in its payload as "verk_unique". */
export interface UniqueLock {
  key: string;
  until: 'started' | 'done' | 'ttl';
  /** until 'ttl': the lock's lifetime in ms. */
  ttl?: number;
}

/** The longest key accepted (the lock is a Redis key; a key this long is a bug in the key function). */
export const MAX_UNIQUE_KEY = 512;

const PATH = /^args(\[\d+\]|\.[A-Za-z_$][\w$]*)*$/;
const STEP = /\[(\d+)\]|\.([A-Za-z_$][\w$]*)/g;

/** The problem with an `unique` option, naming its field, or undefined when it is usable. */
export function uniqueOptionProblem(opt: unknown): string | undefined {
  if (!opt || typeof opt !== 'object' || Array.isArray(opt)) return 'options.unique must be an object { key, until }';
  const o = opt as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'key' && k !== 'until') return `options.unique.${k} is not an option (use key and until)`;
  if (typeof o.key === 'string') {
    if (!PATH.test(o.key)) return `options.unique.key ${JSON.stringify(o.key)} is not a path into the args (e.g. 'args[0]' or 'args[0].account'), nor a function`;
  } else if (typeof o.key !== 'function') return "options.unique.key must be a function of the args or a path such as 'args[0]'";
  return untilProblem(o.until);
}

function untilProblem(u: unknown): string | undefined {
  if (u === undefined || u === 'done' || u === 'started') return undefined;
  if (u && typeof u === 'object' && !Array.isArray(u) && Object.keys(u).length === 1 && 'ttl' in u) {
    const ttl = (u as { ttl: unknown }).ttl;
    let ms: number;
    try {
      ms = parseDuration(ttl);
    } catch (err) {
      return `options.unique.until.ttl: ${(err as Error).message}`;
    }
    if (ms < 1 || ms > MAX_TIMER_MS * 1000) return `options.unique.until.ttl ${JSON.stringify(ttl)} must be at least 1ms`;
    return undefined;
  }
  return `options.unique.until ${JSON.stringify(u)} must be 'started', 'done' or { ttl: '10m' }`;
}

/** Checks an option (throws an Error naming the field). */
export function checkUniqueOption(opt: unknown): UniqueOption {
  const p = uniqueOptionProblem(opt);
  if (p) throw new Error(p);
  return opt as UniqueOption;
}

/**
 * The lock of a job of `className` with these args. Throws an Error naming the class when the
 * option is bad or the key function throws or gives no usable key (nothing is enqueued then).
 */
export function uniqueLockFor(className: string, opt: UniqueOption, args: unknown[]): UniqueLock {
  const problem = uniqueOptionProblem(opt);
  if (problem) throw new Error(`${className}: ${problem}`);
  let key: unknown;
  if (typeof opt.key === 'function') {
    try {
      key = opt.key(args);
    } catch (err) {
      throw new Error(`${className}: options.unique.key threw: ${(err as Error)?.message ?? String(err)}`);
    }
    if (typeof key !== 'string') throw new Error(`${className}: options.unique.key must return a string, got ${describe(key)}`);
  } else {
    const v = atPath(args, opt.key);
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      throw new Error(`${className}: options.unique.key ${opt.key} is ${describe(v)} in these args, not a string or number`);
    }
    key = `${className}:${opt.key}=${String(v)}`;
  }
  const k = key as string;
  if (k === '') throw new Error(`${className}: options.unique.key gave an empty string`);
  if (Buffer.byteLength(k) > MAX_UNIQUE_KEY) throw new Error(`${className}: options.unique.key gave ${Buffer.byteLength(k)} bytes (at most ${MAX_UNIQUE_KEY})`);
  const u = opt.until ?? 'done';
  if (typeof u === 'object') return { key: k, until: 'ttl', ttl: parseDuration(u.ttl) };
  return { key: k, until: u };
}

function atPath(args: unknown[], path: string): unknown {
  let v: unknown = args;
  for (const m of path.slice(4).matchAll(STEP)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = m[1] !== undefined ? (Array.isArray(v) ? v[Number(m[1])] : undefined) : (v as Record<string, unknown>)[m[2]];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `a ${typeof v}`;
}

/** The payload member: what encodeNewJob writes as "verk_unique". */
export function uniqueMember(lock: UniqueLock): Record<string, unknown> {
  return lock.until === 'ttl' ? { key: lock.key, until: 'ttl', ttl: lock.ttl } : { key: lock.key, until: lock.until };
}

/** The lock a decoded payload carries, if any (a malformed member is no lock). */
export function uniqueOf(data: Record<string, unknown>): UniqueLock | undefined {
  const u = data.verk_unique as Record<string, unknown> | undefined;
  if (!u || typeof u !== 'object' || typeof u.key !== 'string' || u.key === '' || typeof data.jid !== 'string') return undefined;
  if (u.until === 'done' || u.until === 'started') return { key: u.key, until: u.until };
  if (u.until === 'ttl') return { key: u.key, until: 'ttl', ...(typeof u.ttl === 'number' ? { ttl: u.ttl } : {}) };
  return undefined;
}
