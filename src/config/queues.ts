// The `queues` setting: its resolved shape and its parser ("default:10,mail:5", a list, or an object
// with per-queue concurrency and timeout).
import { QUEUE_NAME } from '../job/names.js';
import { parseTimerDuration } from '../util/duration.js';

export interface QueueConfig {
  name: string;
  concurrency: number;
  /** Job timeout for this queue in ms (0 = none); a handler's own timeout wins. */
  timeout: number;
}

export type Fail = (why: string) => never;

/** Accepts "default:10,mail:5", ["default:10"], { default: 10, mail: { concurrency: 5, timeout: "30s" } }. */
export function parseQueues(value: unknown, fail: Fail): QueueConfig[] {
  const out: QueueConfig[] = [];
  const add = (name: string, concurrency: unknown, timeout: unknown = 0) => {
    if (!QUEUE_NAME.test(name)) fail(`has a bad queue name ${JSON.stringify(name)} (letters, digits, _ . - only)`);
    const c = typeof concurrency === 'string' && /^\d+$/.test(concurrency) ? Number(concurrency) : concurrency;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > 10_000) {
      fail(`queue ${name}: concurrency must be a whole number from 1 to 10000, got ${JSON.stringify(concurrency)}`);
    }
    let t = 0;
    try {
      t = parseTimerDuration(timeout);
    } catch (err) {
      fail(`queue ${name}: timeout ${(err as Error).message}`);
    }
    if (out.some((q) => q.name === name)) fail(`lists queue ${name} twice`);
    out.push({ name, concurrency: c as number, timeout: t });
  };
  const fromString = (s: string) => {
    for (const part of s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
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
