// Redis connections: one place that builds ioredis clients from the configured URL, with
// reconnect backoff and outage logging once per outage (start and end), never per command.
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../util/logger.js';
import { redactUrl } from '../util/redact.js';

export interface ConnectOptions {
  /** Shown in logs and CLIENT LIST. */
  name: string;
  log?: Logger;
  /** Batch commands issued in the same tick into one write (not for blocking connections). */
  autoPipeline?: boolean;
  /** Give up a command after this many reconnect attempts (default: wait for Redis forever). */
  maxRetriesPerRequest?: number | null;
  /** Fail at once instead of queueing commands while disconnected. */
  offlineQueue?: boolean;
}

export function connectRedis(url: string, opts: ConnectOptions): Redis {
  const options: RedisOptions = {
    connectionName: opts.name,
    enableAutoPipelining: opts.autoPipeline ?? false,
    maxRetriesPerRequest: opts.maxRetriesPerRequest === undefined ? null : opts.maxRetriesPerRequest,
    enableOfflineQueue: opts.offlineQueue ?? true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    // A failing reconnect is reported through the outage logger below, not as unhandled errors.
    lazyConnect: false,
  };
  const redis = new Redis(url, options);
  watchOutages(redis, url, opts);
  return redis;
}

/** Logs "Redis unreachable" once when an outage starts and "Redis reachable again" when it ends. */
function watchOutages(redis: Redis, url: string, opts: ConnectOptions): void {
  let downSince: number | undefined;
  let everReady = false;
  const where = redactUrl(url);
  const down = (error: string) => {
    if (downSince !== undefined) return;
    downSince = Date.now();
    opts.log?.warn(everReady ? 'Redis connection lost; reconnecting' : 'Redis unreachable; retrying with backoff', {
      redis: where, conn: opts.name, error,
    });
  };
  redis.on('error', (err: Error) => down(err.message));
  // A dropped connection that reconnects on the first try raises no 'error'; it is an outage all the same.
  redis.on('reconnecting', () => down('connection closed'));
  redis.on('ready', () => {
    if (downSince !== undefined) {
      opts.log?.info('Redis reachable again', { redis: where, conn: opts.name, outage_ms: Date.now() - downSince });
    }
    downSince = undefined;
    everReady = true;
  });
}

/** Resolves when the client is ready, or rejects after `timeoutMs`. */
export function waitReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not reachable within ${timeoutMs}ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
