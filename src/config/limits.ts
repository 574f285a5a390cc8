// The `limits` setting: cluster-wide limits per queue and key (docs/limits.md), e.g.
//   limits: { 'api.partner': { key: 'args[0].account', concurrency: 3, rate: '100/min' },
//             mailers: { concurrency: 10 } }
// Its resolved shape and its parser (a file's object, or its JSON text from VERK_LIMITS/--limits).
// Every bad entry is an error naming the queue and the field, as the cron setting's are.
import { QUEUE_NAME } from '../job/names.js';
import { parseDuration } from '../util/duration.js';
import type { Fail } from './queues.js';
import { namedEntries } from './named-entries.js';

/** One step of a key path: a field of an object or an index of an array. */
export type KeyStep = string | number;

export interface LimitEntry {
  queue: string;
  /** The key path as written ('' = none: the whole queue is one key). */
  key: string;
  /** The parsed path (empty = none). */
  path: KeyStep[];
  /** Jobs of one key running fleet-wide at once (0 = no concurrency limit: rate only). */
  concurrency: number;
  /** Jobs of one key started per rolling window (0 = no rate limit). */
  rate: number;
  /** The rate's window in ms (0 without a rate). */
  rateWindow: number;
}

const FIELDS = ['key', 'concurrency', 'rate'];
const UNITS: Record<string, number> = { sec: 1000, second: 1000, s: 1000, min: 60_000, minute: 60_000, m: 60_000, hour: 3_600_000, h: 3_600_000 };
/** The longest rate window: its log is a sorted set PEXPIRE'd to it. */
const MAX_WINDOW_MS = 86_400_000;

/** Accepts { queue: { key?, concurrency?, rate? } } or its JSON text. */
export function parseLimits(value: unknown, fail: Fail): LimitEntry[] {
  return namedEntries(value, fail, 'queues', "{ 'api.partner': { key: 'args[0].account', concurrency: 3 } }").map(([queue, e]) =>
    parseEntry(queue, e, (why) => fail(`queue ${JSON.stringify(queue)}: ${why}`)),
  );
}

function parseEntry(queue: string, e: unknown, fail: Fail): LimitEntry {
  if (!QUEUE_NAME.test(queue)) fail('must be a queue name (letters, digits, _ . -)');
  if (!e || typeof e !== 'object' || Array.isArray(e)) return fail(`must be an object with concurrency and/or rate, got ${JSON.stringify(e)}`);
  const o = e as Record<string, unknown>;
  const unknownKey = Object.keys(o).find((k) => !FIELDS.includes(k));
  if (unknownKey) fail(`unknown field \`${unknownKey}\` (use ${FIELDS.join(', ')})`);
  let concurrency = 0;
  if (o.concurrency !== undefined) {
    const c = o.concurrency;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > 1_000_000) fail(`concurrency must be a positive whole number, got ${JSON.stringify(c)}`);
    concurrency = c as number;
  }
  let rate = 0;
  let rateWindow = 0;
  if (o.rate !== undefined) [rate, rateWindow] = parseRate(o.rate, (why) => fail(`rate ${why}`));
  if (concurrency === 0 && rate === 0) fail('needs concurrency, rate or both');
  let key = '';
  let path: KeyStep[] = [];
  if (o.key !== undefined) {
    if (typeof o.key !== 'string') fail(`key must be a path like "args[0].account", got ${JSON.stringify(o.key)}`);
    key = (o.key as string).trim();
    try {
      path = parseKeyPath(key);
    } catch (err) {
      fail(`key ${(err as Error).message}`);
    }
  }
  return { queue, key, path, concurrency, rate, rateWindow };
}

/** "100/min", "5/sec", "10/hour", "3/10s" (N per a duration) → [N, window ms]. */
export function parseRate(value: unknown, fail: Fail): [number, number] {
  const m = typeof value === 'string' ? /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(value) : null;
  if (!m) return fail(`must be "N/sec", "N/min", "N/hour" or "N/<duration>" like "5/10s", got ${JSON.stringify(value)}`);
  const n = Number(m[1]);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) fail(`must start at least 1 and at most 1000000 jobs per window, got ${JSON.stringify(value)}`);
  let ms = UNITS[m[2]];
  if (ms === undefined) {
    try {
      ms = parseDuration(m[2]);
    } catch {
      return fail(`has an unknown window ${JSON.stringify(m[2])} (use sec, min, hour or a duration like 10s)`);
    }
  }
  if (ms < 10 || ms > MAX_WINDOW_MS) fail(`window must be from 10ms to 1 day, got ${JSON.stringify(value)}`);
  return [n, ms];
}

const FIELD = /^[A-Za-z_$][A-Za-z0-9_$-]*/;

/**
 * A declarative path over the job: `class`, `args[0]`, `args[0].account`, `args[1]["a b"]`. Steps
 * are field names (dot or ["quoted"]) and array indexes ([n]); at most 8 steps. Nothing is
 * evaluated: the path is data the fetch script walks.
 */
export function parseKeyPath(text: string): KeyStep[] {
  const steps: KeyStep[] = [];
  let i = 0;
  const bad = (why: string): never => {
    throw new Error(`${JSON.stringify(text)} is not a key path (${why}; e.g. "args[0].account")`);
  };
  if (text === '') bad('empty');
  while (i < text.length) {
    if (text[i] === '[') {
      const idx = /^\[(\d{1,6})\]/.exec(text.slice(i));
      const quoted = /^\["((?:[^"\\]|\\.){1,200})"\]/.exec(text.slice(i));
      if (idx) {
        steps.push(Number(idx[1]));
        i += idx[0].length;
      } else if (quoted) {
        steps.push(JSON.parse(`"${quoted[1]}"`) as string);
        i += quoted[0].length;
      } else bad(`at ${i}: [ must hold an index or a "quoted" name`);
    } else {
      if (steps.length > 0) {
        if (text[i] !== '.') bad(`at ${i}: expected . or [`);
        i++;
      }
      const f = FIELD.exec(text.slice(i));
      if (!f) bad(`at ${i}: expected a field name`);
      steps.push(f![0]);
      i += f![0].length;
    }
    if (steps.length > 8) bad('more than 8 steps');
  }
  return steps;
}

/**
 * The form every node writes to `verk:limits` (queue → this text) and compares: the path as
 * parsed, so two spellings of one path agree.
 */
export function limitRecord(e: LimitEntry): string {
  return JSON.stringify({ key: e.key, path: e.path, concurrency: e.concurrency, rate: e.rate, rateWindow: e.rateWindow });
}
