// What a failover looks like from this process's connections, counted: the replies by which a
// server says it is not (or no longer) the master, and reconnects. One process-wide tally; a
// worker process reports it to its supervisor in its pongs, which exposes it as
// verk_redis_events_total{event} (src/runner/metrics.ts).

/** Replies that mean "not the master now": retry after a reconnect (which finds the master again). */
export const FAILOVER_REPLIES = ['READONLY', 'MASTERDOWN', 'UNBLOCKED', 'LOADING'] as const;
export type FailoverReply = (typeof FAILOVER_REPLIES)[number];
export type RedisEvent = FailoverReply | 'reconnect' | 'unreplicated' | 'reclaimed' | 'revived';

const PATTERN = new RegExp(`^(${FAILOVER_REPLIES.join('|')})\\b`);

const tally: Partial<Record<RedisEvent, number>> = {};

/** The failover reply an error is, if any (the reply's first word). */
export function failoverReply(err: Error | undefined): FailoverReply | undefined {
  const m = PATTERN.exec(err?.message ?? '');
  return m ? (m[1] as FailoverReply) : undefined;
}

export function countRedisEvent(event: RedisEvent, n = 1): void {
  tally[event] = (tally[event] ?? 0) + n;
}

/** A copy of this process's counts so far. */
export function redisEvents(): Partial<Record<RedisEvent, number>> {
  return { ...tally };
}
