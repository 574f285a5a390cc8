// The shape the `cron` and `limits` settings share: an object of named entries in a config file,
// or its JSON text in the environment and on the command line. Returns the entries (name → raw
// entry), [] for empty text; a value of another shape fails with `what` and an example.
import type { Fail } from './queues.js';

export function namedEntries(value: unknown, fail: Fail, what: string, example: string): [string, unknown][] {
  let v = value;
  if (typeof v === 'string') {
    if (v.trim() === '') return [];
    try {
      v = JSON.parse(v);
    } catch (err) {
      return fail(`must be an object of ${what} (JSON in the environment or on the command line): ${(err as Error).message}`);
    }
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return fail(`must be an object of ${what} like ${example}, got ${JSON.stringify(v)}`);
  return Object.entries(v as Record<string, unknown>);
}
