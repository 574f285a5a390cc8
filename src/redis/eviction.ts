// Redis's eviction policy and the warning verk gives when it is not `noeviction`: an evicting
// Redis deletes queued jobs (and heartbeat keys) silently under memory pressure, as Sidekiq warns
// at start. Read with CONFIG GET; where CONFIG is disabled or denied (managed Redis, ACLs), from
// INFO memory; else 'unknown' (then no warning: verk cannot tell).
import type { Redis } from 'ioredis';

/** A maxmemory-policy value (e.g. noeviction, allkeys-lru, volatile-ttl) or 'unknown'. */
export type EvictionPolicy = string;

export async function readEvictionPolicy(redis: Redis): Promise<EvictionPolicy> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as unknown;
    if (Array.isArray(reply) && typeof reply[1] === 'string' && reply[1]) return reply[1];
  } catch {
    /* CONFIG renamed, disabled or denied by an ACL: try INFO */
  }
  try {
    const m = /^maxmemory_policy:(\S+)/m.exec(await redis.info('memory'));
    if (m) return m[1];
  } catch {
    /* INFO denied too */
  }
  return 'unknown';
}

/** The warning for a policy that can evict verk's keys; undefined for noeviction or unknown. */
export function evictionWarning(policy: EvictionPolicy): string | undefined {
  if (policy === 'noeviction' || policy === 'unknown') return undefined;
  const what = policy.startsWith('volatile-')
    ? "keys with a TTL, such as verk's node heartbeat keys: live nodes then look dead and are reaped, so their running jobs run twice"
    : 'any key, including queued jobs, in-progress lists and the retry, schedule and dead sets: those jobs are lost without a trace';
  return (
    `Redis maxmemory-policy is '${policy}': when Redis reaches maxmemory it evicts ${what}. ` +
    'Set `maxmemory-policy noeviction` (redis.conf, or CONFIG SET maxmemory-policy noeviction) so Redis refuses writes instead of deleting data.'
  );
}
