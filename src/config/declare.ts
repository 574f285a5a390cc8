// Builders for the one declaration of the config keys (CONFIG_DECLARATION in defaults.ts): each
// kind's parser and bounds, its flag argument and how its default reads in help and docs.
// No default value lives here.
import { formatDuration, MAX_TIMER_MS, MAX_TIMER_TEXT, parseDuration } from '../util/duration.js';
import { parseQueues, type Fail, type QueueConfig } from './queues.js';
import { parseCron, type CronEntry } from './cron.js';
import { parseLimits, type LimitEntry } from './limits.js';

export type Kind = 'duration' | 'int' | 'string' | 'bool' | 'enum' | 'queues' | 'cron' | 'limits';

/** One config key: `T` is its resolved type, `D` its default as a config file would write it. */
export interface KeyDecl<T = unknown, D = unknown> {
  kind: Kind;
  default: D;
  /** One line for `verk work --help` and the docs table. */
  help: string;
  /** How the default reads in help and docs ("5s", "CPU cores"). */
  defaultText: string;
  /** Commander's argument placeholder ("<duration>"); none for a boolean flag. */
  arg?: string;
  /** Short flag letter ("q" → -q). */
  short?: string;
  /** Environment names read below VERK_<KEY> (REDIS_URL). */
  envAliases?: readonly string[];
  /** Turns a value from a file, the environment or a flag into the resolved value; calls fail(why) on a bad one. */
  parse(value: unknown, fail: Fail): T;
}

/** The resolved type of a declared key. */
export type DeclValue<K> = K extends KeyDecl<infer T, unknown> ? T : never;

interface Common {
  defaultText?: string;
  short?: string;
  arg?: string;
  envAliases?: readonly string[];
}
interface Bounds {
  min?: number;
  max?: number;
}

function checkBounds(n: number, { min, max }: Bounds, fail: Fail, show: (n: number) => string = String): number {
  if (min !== undefined && n < min) fail(`must be at least ${show(min)}, got ${show(n)}`);
  if (max !== undefined && n > max) fail(`must be at most ${show(max)}, got ${show(n)}`);
  return n;
}

const ms = (n: number) => `${n}ms`;

/**
 * A duration in ms ("250ms", "5s", "10m", "1h", "2d" or a number). It becomes a timer, so it is at
 * most 2^31−1 ms, unless `age: true` (a Redis-side age such as deadTimeout, never a timer).
 */
export function duration(def: number, help: string, o: Common & Bounds & { age?: boolean } = {}): KeyDecl<number, number> {
  return {
    kind: 'duration',
    default: def,
    help,
    arg: o.arg ?? '<duration>',
    ...common(o, formatDuration(def)),
    parse(value, fail) {
      let n: number;
      try {
        n = parseDuration(value);
      } catch (err) {
        return fail(`is invalid: ${(err as Error).message}`);
      }
      if (!o.age && n > MAX_TIMER_MS) fail(`must be ${MAX_TIMER_TEXT}: Node fires a longer timer at once; got ${n}ms (${formatDuration(n)})`);
      return checkBounds(n, o, fail, ms);
    },
  };
}

/** A whole number (digits in env and flags). */
export function int(def: number, help: string, o: Common & Bounds = {}): KeyDecl<number, number> {
  return {
    kind: 'int',
    default: def,
    help,
    arg: o.arg ?? '<n>',
    ...common(o, String(def)),
    parse(value, fail) {
      const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) return fail(`must be a whole number, got ${JSON.stringify(value)}`);
      return checkBounds(n, o, fail);
    },
  };
}

/** A string; `check` throws an Error whose message says what is wrong with it. */
export function text(def: string, help: string, o: Common & { check?: (s: string) => unknown } = {}): KeyDecl<string, string> {
  return {
    kind: 'string',
    default: def,
    help,
    arg: o.arg ?? '<value>',
    ...common(o, def === '' ? "''" : def),
    parse(value, fail) {
      if (typeof value !== 'string') return fail(`must be a string, got ${JSON.stringify(value)}`);
      try {
        o.check?.(value);
      } catch (err) {
        fail((err as Error).message);
      }
      return value;
    },
  };
}

/** true/false (env and flags: true, 1, false, 0, empty); on the command line a flag without argument. */
export function bool(def: boolean, help: string, o: Common = {}): KeyDecl<boolean, boolean> {
  return {
    kind: 'bool',
    default: def,
    help,
    ...common(o, String(def)),
    parse(value, fail) {
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0' || value === '') return false;
      return fail(`must be true or false, got ${JSON.stringify(value)}`);
    },
  };
}

/** One of a fixed list of words. */
export function oneOf<const V extends string>(values: readonly V[], def: NoInfer<V>, help: string, o: Common = {}): KeyDecl<V, V> & { values: readonly V[] } {
  return {
    kind: 'enum',
    default: def,
    help,
    values,
    arg: o.arg ?? `<${values.join('|')}>`,
    ...common(o, def),
    parse(value, fail) {
      if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) fail(`must be one of ${values.join(', ')}, got ${JSON.stringify(value)}`);
      return value as V;
    },
  };
}

/** The queue list with per-process concurrency (see parseQueues). */
export function queues(def: string, help: string, o: Common = {}): KeyDecl<QueueConfig[], string> {
  return { kind: 'queues', default: def, help, arg: o.arg ?? '<list>', ...common(o, def), parse: parseQueues };
}

/** Periodic jobs by name (see parseCron): an object in a file, its JSON text in env and flags. */
export function cron(help: string, o: Common = {}): KeyDecl<CronEntry[], Record<string, never>> {
  return { kind: 'cron', default: {}, help, arg: o.arg ?? '<json>', ...common(o, '{}'), parse: parseCron };
}

/** Cluster-wide limits by queue (see parseLimits): an object in a file, its JSON text in env and flags. */
export function limits(help: string, o: Common = {}): KeyDecl<LimitEntry[], Record<string, never>> {
  return { kind: 'limits', default: {}, help, arg: o.arg ?? '<json>', ...common(o, '{}'), parse: parseLimits };
}

function common(o: Common, defaultText: string): Pick<KeyDecl, 'defaultText' | 'short' | 'envAliases'> {
  return { defaultText: o.defaultText ?? defaultText, short: o.short, envAliases: o.envAliases };
}

/** `heartbeatInterval` → `--heartbeat-interval`. */
export const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;
/** `heartbeatInterval` → `VERK_HEARTBEAT_INTERVAL`. */
export const envOf = (key: string): string => `VERK_${key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()}`;
