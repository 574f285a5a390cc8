// The resolved configuration type and the validation of one value, both derived from the
// declaration in defaults.ts (one pass, errors that name the key and where the value came from).
import { CONFIG_DECLARATION, DEFAULTS, type ConfigKey } from './defaults.js';
import type { DeclValue } from './declare.js';
import { ConfigError } from '../util/errors.js';

export type { QueueConfig } from './queues.js';
export type { ConfigKey };

/** The resolved configuration: one field per declared key, of the type its parser returns. */
export type Config = { -readonly [K in ConfigKey]: DeclValue<(typeof CONFIG_DECLARATION)[K]> };

export const CONFIG_KEYS = Object.keys(CONFIG_DECLARATION) as ConfigKey[];

export const isConfigKey = (key: string): key is ConfigKey => Object.hasOwn(CONFIG_DECLARATION, key);

/** Validates one value; `where` says where it came from ("verk.config.json", "VERK_QUEUES", "--queues"). */
export function validateValue<K extends ConfigKey>(key: K, value: unknown, where: string): Config[K] {
  const fail = (why: string): never => {
    throw new ConfigError(`${where}: \`${key}\` ${why}`);
  };
  return CONFIG_DECLARATION[key].parse(value, fail) as Config[K];
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
