// The Redis Cluster layout (docs/redis-cluster.md): with a redis+cluster:// URL every queue is a
// world of its own, a key prefix that holds a hash tag, `<prefix>{<queue>}:`. Every key of that
// queue (its list, in-progress and claim lists, node registry and leases, its share of retry,
// schedule and dead, its stats, limits, unique locks and periodic jobs) then hashes to one slot,
// so every script, which builds its keys from the prefix, runs unchanged inside that slot. A
// `verk work` runs one supervisor per world (src/runner/shard-group.ts); its connections are
// pinned to the master serving the world's slot (src/redis/slot-connector.ts). This module derives
// each world's config from the user's and checks what the layout cannot hold.
import type { Config } from './schema.js';
import { ConfigError } from '../util/errors.js';

const CLUSTER_URL = /^\s*redis\+cluster:\/\//i;

/** Whether the URL selects the cluster layout. */
export const isClusterUrl = (url: string): boolean => CLUSTER_URL.test(url);

/** The key prefix of a queue's world. */
export const worldPrefix = (prefix: string, queue: string): string => `${prefix}{${queue}}:`;

/**
 * The hash tag of a key prefix, Redis's rule (the text between the first "{" and the next "}",
 * if not empty): a world prefix gives its queue. Undefined for a prefix without one.
 */
export function hashTagOf(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  if (open < 0) return undefined;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1 ? prefix.slice(open + 1, close) : undefined;
}

/** What a world's name must be: the hash tag is the text up to the first "}". */
export function checkWorldName(queue: string, where: string): void {
  if (queue === '' || /[{}]/.test(queue)) {
    throw new ConfigError(
      `${where}: queue ${JSON.stringify(queue)} cannot be a shard of the Redis Cluster layout (a redis+cluster:// URL): its name is the keys' hash tag, so it must be non-empty and hold no "{" or "}"`,
    );
  }
}

export interface World {
  /** The queue this world holds. */
  queue: string;
  /** The world's own config: that queue alone, the world's prefix, its periodic jobs and limits. */
  config: Readonly<Config>;
}

/**
 * One world per configured queue. A periodic job and a limit belong to the world of their queue
 * (a node evaluates the periodic jobs of the queues it works); the user's prefix must hold no
 * braces (it comes before the tag).
 */
export function worldsOf(config: Readonly<Config>): World[] {
  if (/[{}]/.test(config.prefix)) {
    throw new ConfigError(
      `\`prefix\` ${JSON.stringify(config.prefix)} holds "{" or "}": with a redis+cluster:// URL the prefix comes before each queue's hash tag, so it must hold neither`,
    );
  }
  for (const q of config.queues) checkWorldName(q.name, '`queues`');
  return config.queues.map((q) => ({
    queue: q.name,
    config: Object.freeze({
      ...config,
      queues: Object.freeze([q]) as Config['queues'],
      prefix: worldPrefix(config.prefix, q.name),
      cron: Object.freeze(config.cron.filter((e) => e.queue === q.name)) as Config['cron'],
      limits: Object.freeze(config.limits.filter((l) => l.queue === q.name)) as Config['limits'],
    }),
  }));
}
