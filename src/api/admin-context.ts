// The connection admin operations run on: one ioredis client that gives up a command after one
// reconnect attempt (an operator's command must fail, not hang, when Redis is unreachable), the
// key names, the typed scripts, and Redis's clock. openCheckedAdmin refuses a database the
// server does not have before any command runs.
import { hashTagOf } from '../config/shard-worlds.js';
import type { Redis } from 'ioredis';
import { connectRedis } from '../redis/connection.js';
import { checkDatabase } from '../redis/database-check.js';
import { makeKeys, type Keys } from '../redis/keys.js';
import { Scripts } from '../redis/scripts.js';

export interface AdminContext {
  redis: Redis;
  keys: Keys;
  scripts: Scripts;
  close(): Promise<void>;
}

export interface AdminOptions {
  redisUrl: string;
  prefix?: string;
  /** The Sentinels' password for a redis+sentinel:// URL (config sentinelPassword). */
  sentinelPassword?: string;
  /** Use an existing client (not closed by close()). */
  redis?: Redis;
}

export function openAdmin(opts: AdminOptions): AdminContext {
  const owned = !opts.redis;
  const redis =
    opts.redis ??
    connectRedis(opts.redisUrl, {
      name: 'verk:admin',
      maxRetriesPerRequest: 1,
      autoPipeline: true,
      oneShot: true,
      sentinelPassword: opts.sentinelPassword,
      slotTag: hashTagOf(opts.prefix ?? ''),
    });
  const keys = makeKeys(opts.prefix ?? '');
  return {
    redis,
    keys,
    scripts: new Scripts(redis, keys),
    async close() {
      if (!owned) return;
      await Promise.race([redis.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      redis.disconnect();
    },
  };
}

/** openAdmin, then SELECT of the URL's database: a ConfigError (exit 78) before any write if the server refuses it. */
export async function openCheckedAdmin(opts: AdminOptions): Promise<AdminContext> {
  const admin = openAdmin(opts);
  try {
    await checkDatabase(admin.redis, opts.redisUrl);
  } catch (err) {
    await admin.close();
    throw err;
  }
  return admin;
}

/** Redis's clock in float epoch seconds (all ages are computed against it, not the laptop's). */
export { redisNowSeconds as redisNow } from '../redis/redis-clock.js';
