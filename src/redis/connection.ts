// Redis connections: one place that builds ioredis clients from the configured URL, with
// reconnect backoff, a bound on every command, TCP keep-alive, and outage logging once per
// outage (start and end), never per command. A command that gets no reply within its bound
// drops its connection and makes a new one: a half-open socket (NAT/conntrack drop, load-balancer
// failover) never delivers again, and ioredis's own commandTimeout only rejects the command.
// A redis+sentinel:// URL asks the Sentinels for the master (and again at every reconnect); the
// replies of a failover (READONLY, MASTERDOWN, UNBLOCKED, LOADING) drop the connection so that it
// finds the new master, and are counted (failover-stats.ts). A redis+cluster:// URL pins the
// connection to the master of one slot (ConnectOptions.slotTag; slot-connector.ts finds it at every
// connect): MOVED and CLUSTERDOWN reconnect too, ASK and TRYAGAIN (a slot being migrated) are
// counted and only fail their command. docs/redis-ha.md.
import { Redis, type RedisOptions } from 'ioredis';
import { DEFAULTS, REDIS_SOCKET_DEFAULTS } from '../config/defaults.js';
import type { Logger } from '../util/logger.js';
import { monotonicMs } from '../util/clock.js';
import { redactUrl } from '../util/redact.js';
import { parseRedisUrl } from '../util/redis-url.js';
import { backoffMs } from '../util/sleep.js';
import { countRedisEvent, failoverReply, reconnectsOn } from './failover-stats.js';
import { askSeeds, type ClusterMaster, slotConnector, slotOf } from './slot-connector.js';

export { slotOf, type ClusterMaster };

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
  /** A command without a reply for this long fails and the connection is re-made (default redisCommandTimeout). */
  commandTimeoutMs?: number;
  /** For a blocking connection: the longest block time of its commands, added to commandTimeoutMs. */
  blockingMs?: number;
  /** A one-shot command's connection (admin): gives up on unreachable Sentinels after maxRetriesPerRequest rounds. */
  oneShot?: boolean;
  /** The Sentinels' password for a redis+sentinel:// URL (config sentinelPassword; wins over the URL's ?sentinelPassword=). */
  sentinelPassword?: string;
  /**
   * For a redis+cluster:// URL (required there): the hash tag whose slot the connection serves; it
   * talks to the master of slot("{" + slotTag + "}") and finds it again at every reconnect.
   */
  slotTag?: string;
}

/** The bound, in ms, on one command of a connection made with these options. */
export function commandBoundMs(opts: Pick<ConnectOptions, 'commandTimeoutMs' | 'blockingMs'>): number {
  return (opts.commandTimeoutMs ?? DEFAULTS.redisCommandTimeout) + (opts.blockingMs ?? 0);
}

const TIMED_OUT = 'Command timed out';

export function connectRedis(url: string, opts: ConnectOptions): Redis {
  const options: RedisOptions = {
    connectionName: opts.name,
    enableAutoPipelining: opts.autoPipeline ?? false,
    maxRetriesPerRequest: opts.maxRetriesPerRequest === undefined ? null : opts.maxRetriesPerRequest,
    enableOfflineQueue: opts.offlineQueue ?? true,
    retryStrategy: (times) => backoffMs(times, 50, 2000),
    // Every command, queued offline or sent, is rejected after this (a BLMOVE's bound includes its block time).
    commandTimeout: commandBoundMs(opts),
    // The connect handshake is bounded too (a SYN that is never answered).
    connectTimeout: commandBoundMs({ commandTimeoutMs: opts.commandTimeoutMs }),
    keepAlive: REDIS_SOCKET_DEFAULTS.keepAliveMs,
    disconnectTimeout: REDIS_SOCKET_DEFAULTS.disconnectTimeoutMs,
    // A failing reconnect is reported through the outage logger below, not as unhandled errors.
    lazyConnect: false,
    // A failover's replies mean "this is not (or no longer) the master": reconnect, which asks the
    // Sentinels (the seeds, or DNS) again; the command fails and its caller retries it with backoff.
    // ASK and TRYAGAIN (a cluster slot being migrated) fail the command without a reconnect.
    reconnectOnError: (err) => {
      const kind = failoverReply(err);
      if (kind) countRedisEvent(kind);
      return kind && reconnectsOn(kind) ? 1 : false;
    },
  };
  const redis = sentinelClient(url, options, opts) ?? clusterClient(url, options, opts) ?? new Redis(url, options);
  redis.on('failoverSubscribed', () => quietFailoverDetector(redis));
  redis.on('reconnecting', () => countRedisEvent('reconnect'));
  watchOutages(redis, url, opts);
  reconnectOnTimeout(redis, commandBoundMs(opts));
  if (!opts.oneShot) reviveOnUnexpectedEnd(redis, opts);
  return redis;
}

/**
 * ioredis can end a client for good on its own: when its connector fails (a Sentinel client's
 * failover detector disconnects it while it is resolving the new master, and the connect throws
 * "Connection is closed."), the client goes to `end`, every later command fails with "Connection
 * is closed." and nothing reconnects. A producer or a worker must never stay like that: an end
 * we did not ask for (quit, or disconnect without reconnect) is followed by a connect, with
 * backoff, until one succeeds. Counted (`revived`) and logged once per episode.
 */
function reviveOnUnexpectedEnd(redis: Redis, opts: ConnectOptions): void {
  let closing = false;
  const quit = redis.quit.bind(redis);
  const disconnect = redis.disconnect.bind(redis);
  redis.quit = ((...a: unknown[]) => {
    closing = true;
    return (quit as (...x: unknown[]) => unknown)(...a);
  }) as Redis['quit'];
  redis.disconnect = ((reconnect?: boolean) => {
    if (!reconnect) closing = true;
    return disconnect(reconnect);
  }) as Redis['disconnect'];
  let attempts = 0;
  redis.on('ready', () => (attempts = 0));
  redis.on('end', () => {
    if (closing) return;
    if (attempts === 0) opts.log?.warn('Redis client ended by itself (ioredis gave up on a connect); connecting it again', { conn: opts.name });
    countRedisEvent('revived');
    setTimeout(
      () => {
        if (!closing && redis.status === 'end') redis.connect().catch(() => undefined);
      },
      backoffMs(attempts++, 100, 5_000),
    ).unref();
  });
}

/** A client that finds its master through the Sentinels of a redis+sentinel:// URL; undefined for other URLs. */
function sentinelClient(url: string, options: RedisOptions, opts: ConnectOptions): Redis | undefined {
  const { db, sentinel } = parseRedisUrl(url);
  if (!sentinel) return undefined;
  const bound = commandBoundMs({ commandTimeoutMs: opts.commandTimeoutMs });
  return new Redis({
    ...options,
    sentinels: sentinel.sentinels,
    name: sentinel.masterName,
    role: 'master',
    db,
    username: sentinel.username,
    password: sentinel.password,
    sentinelUsername: sentinel.sentinelUsername,
    sentinelPassword: opts.sentinelPassword || sentinel.sentinelPassword,
    sentinelCommandTimeout: bound,
    // All Sentinels unreachable: ask again with backoff, for ever. Only a one-shot connection (an
    // operator command) stops after maxRetriesPerRequest rounds: ioredis then ends the client for
    // good (BullMQ issue #4378), which a long-lived producer or worker must never do.
    sentinelRetryStrategy: (times) => (opts.oneShot && times > (opts.maxRetriesPerRequest ?? 0) ? null : backoffMs(times, 50, 2000)),
    // Subscribed to +switch-master: a failover drops the connection at once instead of at its first refused write.
    failoverDetector: true,
    sentinelReconnectStrategy: (times) => backoffMs(times, 250, 10_000),
  });
}

/** A client pinned to the master of opts.slotTag's slot for a redis+cluster:// URL; undefined for other URLs. */
function clusterClient(url: string, options: RedisOptions, opts: ConnectOptions): Redis | undefined {
  const { cluster } = parseRedisUrl(url);
  if (!cluster) return undefined;
  if (opts.slotTag === undefined || opts.slotTag === '') {
    throw new Error(`a redis+cluster:// connection needs a slotTag (the hash tag of the queue whose slot it serves): connection "${opts.name}"`);
  }
  const { seeds, username, password } = cluster;
  return new Redis({
    ...options,
    username,
    password,
    db: 0,
    Connector: slotConnector({
      seeds,
      username,
      password,
      slot: slotOf(opts.slotTag),
      askTimeoutMs: commandBoundMs({ commandTimeoutMs: opts.commandTimeoutMs }),
      // No seed answering: ask again with backoff, for ever; a one-shot connection gives up after
      // maxRetriesPerRequest rounds (as for Sentinels above).
      retryDelay: (round) => (opts.oneShot && round > (opts.maxRetriesPerRequest ?? 0) ? null : backoffMs(round, 50, 2000)),
    }),
  });
}

/**
 * The masters of the cluster of a redis+cluster:// URL and the slot ranges each serves (sorted by
 * first slot), from the first seed that answers, for operator commands that visit every shard.
 * Each seed is asked within the command timeout; throws when none answers.
 */
export async function clusterMasters(url: string, opts: Pick<ConnectOptions, 'commandTimeoutMs'> = {}): Promise<ClusterMaster[]> {
  const { cluster } = parseRedisUrl(url);
  if (!cluster) throw new Error('clusterMasters needs a redis+cluster:// URL');
  const { masters } = await askSeeds(cluster.seeds, cluster, commandBoundMs({ commandTimeoutMs: opts.commandTimeoutMs }));
  return masters;
}

/**
 * ioredis's failover detector keeps one subscriber connection per Sentinel and gives them no
 * 'error' listener, so while a Sentinel is down every reconnect attempt prints "[ioredis]
 * Unhandled error event" to stderr (outside the JSON logs). They reconnect by themselves
 * (sentinelReconnectStrategy); the data connection's outage is logged by watchOutages. Reaches
 * into ioredis's connector (not public API): if its shape changes this does nothing.
 */
function quietFailoverDetector(redis: Redis): void {
  const detector = (redis as unknown as { connector?: { failoverDetector?: { sentinels?: { client?: Redis }[] } } }).connector?.failoverDetector;
  for (const s of detector?.sentinels ?? []) if (s.client && s.client.listenerCount('error') === 0) s.client.on('error', () => undefined);
}

/**
 * A command that timed out on a ready connection means the connection is presumed dead: every
 * command still waiting on it is failed (their outcome is unknown, so they are not re-sent) and
 * the client reconnects. Once per dead connection: the first timeout drops it, later ones of the
 * same connection only fail their command. A command that spent part of its bound in the offline
 * queue (sent while not ready), or was sent before the current connection became ready, proves
 * nothing about the connection: it only fails (else the reconnect that ends a long outage would
 * be dropped at once by a command queued during the outage).
 */
function reconnectOnTimeout(redis: Redis, boundMs: number): void {
  let dropping = false;
  let readyAt = 0;
  redis.on('ready', () => {
    dropping = false;
    readyAt = monotonicMs();
  });
  // ioredis sends a command queued offline a second time when the connection is ready: the first send counts.
  const seen = new WeakSet<object>();
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: Parameters<Redis['sendCommand']>[0], ...rest: unknown[]) => {
    const first = !seen.has(command);
    seen.add(command);
    const sentReady = redis.status === 'ready';
    const sentAt = monotonicMs();
    const reply = (send as (...a: unknown[]) => unknown)(command, ...rest);
    if (!first) return reply;
    command.promise.catch((err: Error) => {
      // Sent on the connection that is ready now (not queued offline, not on an earlier one). Compared
      // by send time, not by "ready a whole bound ago": a timer may fire a millisecond before its
      // bound by this clock, and a half-open socket frozen right after the connect was then kept.
      if (err?.message !== TIMED_OUT || dropping || !sentReady || redis.status !== 'ready' || sentAt < readyAt) return;
      dropping = true;
      const why = new Error(`no reply to ${command.name} within ${boundMs}ms: connection presumed dead (half-open)`);
      redis.recoverFromFatalError(why, why, { offlineQueue: false });
    });
    return reply;
  }) as Redis['sendCommand'];
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
      redis: where,
      conn: opts.name,
      error,
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
