// Redis's clock (TIME): every age and deadline the cluster shares is computed against it, never
// against the local clock of whichever process asks (pods' clocks differ and step).
import type { Redis } from 'ioredis';

/** A TIME reply ([seconds, microseconds], strings or numbers) in float epoch seconds. */
export function timeReplySeconds([s, us]: readonly (string | number)[]): number {
  return Number(s) + Number(us) / 1e6;
}

/** Redis's clock in float epoch seconds. */
export async function redisNowSeconds(redis: Redis): Promise<number> {
  return timeReplySeconds(await redis.time());
}

/** Redis's clock in whole epoch milliseconds. */
export async function redisNowMs(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}
