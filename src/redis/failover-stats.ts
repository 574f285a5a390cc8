// What a failover looks like from this process's connections, counted: the replies by which a
// server says it is not (or no longer) the master (or, in a Redis Cluster, no longer serves the
// slot, or the slot is being migrated), and reconnects. One process-wide tally; a
// worker process reports it to its supervisor in its pongs, which exposes it as
// verk_redis_events_total{event} (src/runner/metrics.ts).

/**
 * Replies that mean "not the master now" (MOVED, CLUSTERDOWN: "this node does not serve the slot
 * now"): retry after a reconnect (which finds the master again).
 */
export const FAILOVER_REPLIES = ['READONLY', 'MASTERDOWN', 'UNBLOCKED', 'LOADING', 'MOVED', 'CLUSTERDOWN'] as const;
/** Replies of a slot being migrated (Redis Cluster): the command fails, the caller retries it with backoff; no reconnect. */
export const MIGRATION_REPLIES = ['ASK', 'TRYAGAIN'] as const;
export type FailoverReply = (typeof FAILOVER_REPLIES)[number] | (typeof MIGRATION_REPLIES)[number];
export type RedisEvent = FailoverReply | 'reconnect' | 'unreplicated' | 'reclaimed' | 'revived';

const PATTERN = new RegExp(`^(${[...FAILOVER_REPLIES, ...MIGRATION_REPLIES].join('|')})\\b`);
const RECONNECTS: ReadonlySet<FailoverReply> = new Set(FAILOVER_REPLIES);

const tally: Partial<Record<RedisEvent, number>> = {};

/** The failover or migration reply an error is, if any (the reply's first word): a transient refusal, not an error of the command. */
export function failoverReply(err: Error | undefined): FailoverReply | undefined {
  const m = PATTERN.exec(err?.message ?? '');
  return m ? (m[1] as FailoverReply) : undefined;
}

/** Whether a reply means the connection must find its master again (not so for ASK, TRYAGAIN). */
export function reconnectsOn(kind: FailoverReply): boolean {
  return RECONNECTS.has(kind);
}

export function countRedisEvent(event: RedisEvent, n = 1): void {
  tally[event] = (tally[event] ?? 0) + n;
}

/** A copy of this process's counts so far. */
export function redisEvents(): Partial<Record<RedisEvent, number>> {
  return { ...tally };
}
