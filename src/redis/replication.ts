// Durable writes (durability: 'replicated', docs/redis-ha.md): `WAIT 1 <timeout>` after a write, on
// the same connection, says whether a replica has it, so a failover cannot silently undo it.
// WAIT counts the writes of its own connection only: a reply that comes after the connection was
// re-made (ioredis re-sends unanswered commands on the new one) confirms nothing, so every
// connection's reconnects are numbered (its "epoch") and such a reply counts as unconfirmed.
// A blocked WAIT holds every command behind it on its connection, so a connection has at most one
// WAIT in flight and one more queued; every write done before a WAIT is sent shares its answer.
import type { Redis } from 'ioredis';
import { DURABLE } from '../config/defaults.js';
import { backoffMs, sleep } from '../util/sleep.js';
import { countRedisEvent } from './failover-stats.js';

export type Durability = 'default' | 'replicated';

export interface DurableOptions {
  /** WAIT's timeout: how long a write waits for a replica. */
  timeoutMs: number;
  /** A write no replica confirmed after every attempt (counted already): for a log line. */
  onUnconfirmed?(what: string): void;
}

/**
 * A write Redis took but no replica confirmed within the durability timeout. Thrown to a producer,
 * never written into a job (so not in the error_class catalogue of src/job/error-classes.ts).
 */
export class UnreplicatedWriteError extends Error {
  override readonly name = 'UnreplicatedWriteError';
  constructor(what: string, why: string) {
    super(`${what} was not confirmed by a replica (${why}): a failover may undo it`);
  }
}

const epochs = new WeakMap<Redis, { n: number }>();

interface Waits {
  /** The WAIT sent and not yet answered. */
  inFlight?: Promise<number>;
  /** The WAIT to send once inFlight is answered: for writes done after inFlight was sent. */
  next?: Promise<number>;
}
const waits = new WeakMap<Redis, Waits>();

/** A WAIT sent after the caller's write was answered: the one queued, else a new one. */
function sharedWait(redis: Redis, timeoutMs: number): Promise<number> {
  let w = waits.get(redis);
  if (!w) waits.set(redis, (w = {}));
  const state = w;
  const send = (): Promise<number> => {
    const p = Promise.resolve(redis.call('WAIT', 1, timeoutMs)).then(Number);
    state.inFlight = p;
    const clear = () => {
      if (state.inFlight === p) state.inFlight = undefined;
    };
    p.then(clear, clear);
    return p;
  };
  if (!state.inFlight) return send();
  state.next ??= state.inFlight
    .catch(() => 0)
    .then(() => {
      state.next = undefined;
      return send();
    });
  return state.next;
}

/** The number of times this connection has become ready (tracked from the first call on). */
export function epochOf(redis: Redis): number {
  let e = epochs.get(redis);
  if (!e) {
    const counter = { n: 0 };
    epochs.set(redis, (e = counter));
    redis.on('ready', () => counter.n++);
  }
  return e.n;
}

/**
 * `WAIT 1 timeout` on the connection: true when a replica has every write this connection sent
 * in the same epoch `since`; false when none did in time, or the connection was re-made.
 */
export async function replicaHas(redis: Redis, since: number, timeoutMs: number): Promise<boolean> {
  if (epochOf(redis) !== since) return false;
  const replicas = await sharedWait(redis, timeoutMs);
  return replicas >= 1 && epochOf(redis) === since;
}

/**
 * Confirms a write sent in epoch `since`: WAITs for a replica, and while none confirms, waits
 * with backoff and WAITs again (DURABLE.attempts in all). After a reconnect the write may have
 * been undone by a failover, so `redo` (idempotent: it changes nothing where the write already
 * holds) is sent again first. Returns false after the last attempt (counted as `unreplicated`).
 */
export async function confirmWrite(redis: Redis, since: number, what: string, redo: () => Promise<unknown>, o: DurableOptions): Promise<boolean> {
  let at = since;
  for (let attempt = 0; attempt < DURABLE.attempts; attempt++) {
    if (attempt > 0) await sleep(backoffMs(attempt - 1, DURABLE.backoffBaseMs, DURABLE.backoffCapMs));
    try {
      if (epochOf(redis) !== at) {
        at = epochOf(redis);
        await redo();
      }
      if (await replicaHas(redis, at, o.timeoutMs)) return true;
    } catch {
      // The connection failed during the redo or the WAIT: the next attempt finds out.
    }
  }
  countRedisEvent('unreplicated');
  o.onUnconfirmed?.(what);
  return false;
}

/** How often an unconfirmed write is logged at most (the count in between is in the next line and the metric). */
const UNCONFIRMED_LOG_EVERY_MS = 5_000;

/** The durable options of a process's connections from its config (undefined: durability 'default'). */
export function durableOptions(
  config: { durability: Durability; durabilityTimeout: number },
  log?: { warn(msg: string, fields?: Record<string, unknown>): void },
): DurableOptions | undefined {
  if (config.durability !== 'replicated') return undefined;
  let last = -Infinity;
  let since = 0;
  return {
    timeoutMs: config.durabilityTimeout,
    onUnconfirmed(what) {
      since++;
      const now = Date.now();
      if (now - last < UNCONFIRMED_LOG_EVERY_MS) return;
      log?.warn('write not confirmed by any replica: a failover now may undo it', { write: what, unconfirmed: since, timeout_ms: config.durabilityTimeout });
      last = now;
      since = 0;
    },
  };
}
