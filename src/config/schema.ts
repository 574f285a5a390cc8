// The resolved configuration type and the validation of each key (one pass, clear errors).
import { DEFAULTS } from './defaults.js';
import { parseDuration } from '../util/duration.js';
import { ConfigError } from '../util/errors.js';
import { QUEUE_NAME } from '../job/names.js';

export interface QueueConfig {
  name: string;
  concurrency: number;
  /** Job timeout for this queue in ms (0 = none); a handler's own timeout wins. */
  timeout: number;
}

export interface Config {
  redisUrl: string;
  prefix: string;
  queues: QueueConfig[];
  processes: number;
  handlers: string;
  nodeId: string;
  fixedNodeId: boolean;
  heartbeatInterval: number;
  nodeTtl: number;
  reaperInterval: number;
  maxRecoveries: number;
  hangTimeout: number;
  recoveryWindow: number;
  reapBatch: number;
  recoveryHistory: number;
  schedulerInterval: number;
  schedulerBatch: number;
  blockTimeout: number;
  redisCommandTimeout: number;
  shutdownTimeout: number;
  killGrace: number;
  jobTimeout: number;
  maxRetries: number;
  deadMaxJobs: number;
  deadTimeout: number;
  backtraceLines: number;
  healthPort: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  logFormat: 'auto' | 'json' | 'pretty';
}

type Kind = 'duration' | 'int' | 'string' | 'bool' | 'queues' | 'enum';
interface KeySpec { kind: Kind; min?: number; max?: number; values?: readonly string[] }

/** Every accepted key: its kind and bounds. Keys missing here are rejected with a suggestion. */
export const KEY_SPECS: Record<keyof Config, KeySpec> = {
  redisUrl: { kind: 'string' },
  prefix: { kind: 'string' },
  queues: { kind: 'queues' },
  processes: { kind: 'int', min: 0, max: 512 },
  handlers: { kind: 'string' },
  nodeId: { kind: 'string' },
  fixedNodeId: { kind: 'bool' },
  heartbeatInterval: { kind: 'duration', min: 10 },
  nodeTtl: { kind: 'duration', min: 50 },
  reaperInterval: { kind: 'duration', min: 10 },
  maxRecoveries: { kind: 'int', min: 0 },
  hangTimeout: { kind: 'duration', min: 100 },
  recoveryWindow: { kind: 'duration', min: 1000 },
  reapBatch: { kind: 'int', min: 1, max: 100_000 },
  recoveryHistory: { kind: 'int', min: 0 },
  schedulerInterval: { kind: 'duration', min: 10 },
  schedulerBatch: { kind: 'int', min: 1, max: 10_000 },
  blockTimeout: { kind: 'duration', min: 10 },
  redisCommandTimeout: { kind: 'duration', min: 50, max: 600_000 },
  shutdownTimeout: { kind: 'duration' },
  killGrace: { kind: 'duration' },
  jobTimeout: { kind: 'duration' },
  maxRetries: { kind: 'int', min: 0 },
  deadMaxJobs: { kind: 'int', min: 0 },
  deadTimeout: { kind: 'duration' },
  backtraceLines: { kind: 'int', min: 0 },
  healthPort: { kind: 'int', min: 0, max: 65535 },
  logLevel: { kind: 'enum', values: ['debug', 'info', 'warn', 'error', 'silent'] },
  logFormat: { kind: 'enum', values: ['auto', 'json', 'pretty'] },
};

export const CONFIG_KEYS = Object.keys(KEY_SPECS) as (keyof Config)[];

/** Validates one value; `where` says where it came from ("verk.config.json", "VERK_QUEUES", "--queues"). */
export function validateValue(key: keyof Config, value: unknown, where: string): unknown {
  const spec = KEY_SPECS[key];
  const fail = (why: string): never => {
    throw new ConfigError(`${where}: \`${key}\` ${why}`);
  };
  switch (spec.kind) {
    case 'string':
      if (typeof value !== 'string') fail(`must be a string, got ${JSON.stringify(value)}`);
      return value;
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0' || value === '') return false;
      return fail(`must be true or false, got ${JSON.stringify(value)}`);
    case 'enum':
      if (typeof value !== 'string' || !spec.values!.includes(value)) fail(`must be one of ${spec.values!.join(', ')}, got ${JSON.stringify(value)}`);
      return value;
    case 'int': {
      const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) return fail(`must be a whole number, got ${JSON.stringify(value)}`);
      checkBounds(n, spec, fail);
      return n;
    }
    case 'duration': {
      let ms: number;
      try {
        ms = parseDuration(value);
      } catch (err) {
        return fail(`: ${(err as Error).message}`.replace(/^: /, 'is invalid: '));
      }
      checkBounds(ms, spec, fail);
      return ms;
    }
    case 'queues':
      return parseQueues(value, fail);
  }
}

function checkBounds(n: number, spec: KeySpec, fail: (why: string) => never): void {
  if (spec.min !== undefined && n < spec.min) fail(`must be at least ${spec.min}, got ${n}`);
  if (spec.max !== undefined && n > spec.max) fail(`must be at most ${spec.max}, got ${n}`);
}


/** Accepts "default:10,mail:5", ["default:10"], { default: 10, mail: { concurrency: 5, timeout: "30s" } }. */
export function parseQueues(value: unknown, fail: (why: string) => never): QueueConfig[] {
  const out: QueueConfig[] = [];
  const add = (name: string, concurrency: unknown, timeout: unknown = 0) => {
    if (!QUEUE_NAME.test(name)) fail(`has a bad queue name ${JSON.stringify(name)} (letters, digits, _ . - only)`);
    const c = typeof concurrency === 'string' && /^\d+$/.test(concurrency) ? Number(concurrency) : concurrency;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > 10_000) {
      fail(`queue ${name}: concurrency must be a whole number from 1 to 10000, got ${JSON.stringify(concurrency)}`);
    }
    let t = 0;
    try {
      t = parseDuration(timeout);
    } catch (err) {
      fail(`queue ${name}: timeout ${(err as Error).message}`);
    }
    if (out.some((q) => q.name === name)) fail(`lists queue ${name} twice`);
    out.push({ name, concurrency: c as number, timeout: t });
  };
  const fromString = (s: string) => {
    for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
      const [name, conc, ...rest] = part.split(':');
      if (rest.length) fail(`has a bad entry ${JSON.stringify(part)} (use name:concurrency, e.g. default:10)`);
      add(name, conc ?? '10');
    }
  };
  if (typeof value === 'string') fromString(value);
  else if (Array.isArray(value)) value.forEach((v) => (typeof v === 'string' ? fromString(v) : fail(`entries must be strings like "default:10"`)));
  else if (value && typeof value === 'object') {
    for (const [name, v] of Object.entries(value)) {
      if (v && typeof v === 'object') {
        const { concurrency, timeout, ...extra } = v as Record<string, unknown>;
        const unknownKey = Object.keys(extra)[0];
        if (unknownKey) fail(`queue ${name}: unknown key \`${unknownKey}\` (use concurrency, timeout)`);
        add(name, concurrency ?? 10, timeout ?? 0);
      } else add(name, v);
    }
  } else fail(`must be like "default:10,mail:5", got ${JSON.stringify(value)}`);
  if (out.length === 0) fail('names no queue (use e.g. "default:10")');
  return out;
}

/** The closest known key, for "did you mean …?" (Levenshtein distance ≤ 3). */
export function suggestKey(key: string, known: readonly string[] = CONFIG_KEYS): string | undefined {
  let best: string | undefined;
  let bestD = 4;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

export { DEFAULTS };
