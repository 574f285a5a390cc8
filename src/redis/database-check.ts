// Makes sure a client really works in the database its URL names, before anything is written.
// ioredis only logs a failed SELECT (at connect and after every reconnect) and goes on in db 0,
// so `redis://host/99` would clear another database's retry set. checkDatabase selects the db
// explicitly at start; guardDatabase cuts the client off if a reconnect's SELECT is refused.
import type { Redis } from 'ioredis';
import { ConfigError } from '../util/errors.js';
import { parseRedisUrl } from '../util/redis-url.js';
import { withTimeout } from '../util/timeout.js';

/** Replies by which a server refuses SELECT n (out of range; Redis Cluster allows only db 0). */
const SELECT_REFUSED = /DB index is out of range|invalid DB index|SELECT is not allowed in cluster mode|value is not an integer or out of range/i;
/** Bound of each check command (an admin command must fail, not hang, on a dead connection). */
const CHECK_TIMEOUT_MS = 5_000;

/** Runs SELECT <db of url>; throws a ConfigError naming the database when the server refuses it. Returns the db. */
export async function checkDatabase(redis: Redis, url: string): Promise<number> {
  const { db } = parseRedisUrl(url);
  try {
    await bounded(redis.select(db), `SELECT ${db}`);
  } catch (err) {
    if (!SELECT_REFUSED.test((err as Error).message)) throw err;
    throw new ConfigError(`${await describeRefusal(redis, db, (err as Error).message)}: check the /N at the end of --redis-url / REDIS_URL`);
  }
  return db;
}

/**
 * After a reconnect ioredis re-selects the db and, when the server refuses (a restart with fewer
 * `databases`, a failover to a server configured differently), goes on in db 0. This listens for
 * that refusal and disconnects the client for good, so its queued and later commands fail instead
 * of writing to db 0; `onRefused` hears about it (to stop the process with exit 78, say).
 * Returns a function that removes the guard.
 */
export function guardDatabase(redis: Redis, db: number, onRefused?: (err: ConfigError) => void): () => void {
  const listener = (err: Error) => {
    if (!SELECT_REFUSED.test(err?.message ?? '')) return;
    redis.disconnect(false);
    onRefused?.(new ConfigError(`database ${db} was refused by the server (${err.message}); the connection is closed so that nothing is written to another database`));
  };
  redis.on('error', listener);
  return () => redis.off('error', listener);
}

async function describeRefusal(redis: Redis, db: number, reply: string): Promise<string> {
  if (/cluster/i.test(reply)) return `database ${db} cannot be used: this server runs in cluster mode, which has database 0 only`;
  const count = await bounded(redis.config('GET', 'databases') as Promise<unknown>, 'CONFIG GET databases').then(
    (r) => (Array.isArray(r) && /^\d+$/.test(String(r[1])) ? Number(r[1]) : undefined),
    () => undefined, // CONFIG is often disabled on managed servers: say less
  );
  if (count === undefined) return `database ${db} does not exist on this server (${reply})`;
  return `database ${db} does not exist on this server (it has ${count}: 0–${count - 1})`;
}

function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  return withTimeout(p, CHECK_TIMEOUT_MS, `${what}: no reply within ${CHECK_TIMEOUT_MS}ms`);
}
