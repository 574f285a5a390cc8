// Typed calls of the Lua scripts in lua/ (read by script-source.ts, run by EVALSHA:
// script-names.ts). Payloads are bytes: every payload in a reply is a Buffer (the commands'
// Buffer variants) and payload arguments may be Buffers, so a payload that is not UTF-8 is
// matched and moved byte for byte. Raw statuses are named through statuses.ts.
import type { Redis, ChainableCommander } from 'ioredis';
import { FLEET, HANDBACK, SCRIPT_BOUNDS } from '../config/defaults.js';
import type { Keys } from './keys.js';
import { FAIL_STATUS, FETCH_STATUS, HEARTBEAT_STATUS, REQUEUE_STATUS, statusOf, throwIfWrongType } from './statuses.js';

export { scriptSources } from './script-source.js';
export type * from './script-types.js';
export { chunksOf, tombstoneFor } from './script-helpers.js';
import type {
  AckRef,
  AckResult,
  ClaimResult,
  DailyStatsFlush,
  DailyTotals,
  FailArgs,
  FailStatus,
  FetchResult,
  PromoteEntry,
  ReapOptions,
  ReapResult,
  ReapScanResult,
  UniqueRef,
  AckTags,
} from './script-types.js';
import { ackHead, ackJobArgs, ackResult, blockThenClaim, chunksOf, fetchResult, flat, lockTail, sha1 } from './script-helpers.js';
import * as limitCalls from './limit-calls.js';
import type { LimitSpec, Outlook } from './limit-calls.js';
import { payloadIdentity } from '../job/identity.js';
import { monotonicMs } from '../util/clock.js';
import * as reapCalls from './reap-calls.js';
import { confirmWrite, epochOf, type DurableOptions } from './replication.js';
import { cronTick, type CronTickCall, type CronTickResult } from './cron-calls.js';
import * as uniqueCalls from './unique-calls.js';
import { DURABLE_WRITES, runScript, type Arg, type FleetEventKind, type ScriptName } from './script-names.js';
import type { UniqueEnqueue, UniqueEnqueueResult, SweepResult, UniqueWhy } from './unique-calls.js';

export { FLEET_EVENT_KINDS, WRAPPED_SCRIPTS } from './script-names.js';
export type { FleetEventKind, ScriptName } from './script-names.js';

/** Typed calls of the Lua scripts on one connection. */
export class Scripts {
  /** Queue → its limit as the scripts take it (docs/limits.md); a queue not here runs today's scripts. */
  private readonly limitSpecs: ReadonlyMap<string, string>;
  /**
   * Per limited queue: when (this machine's monotonic ms) its next rate-blocked key reopens, from
   * the last take on this connection or on one made with on() (the fetch and the idle wait share it).
   */
  private reopenAt = new Map<string, number>();

  constructor(
    readonly redis: Redis,
    readonly keys: Keys,
    /** Set with durability 'replicated': the writes of DURABLE_WRITES are confirmed by a replica. */
    readonly durable?: DurableOptions,
    /** Cluster-wide limits of the queues this connection fetches (config `limits`). */
    readonly limits: readonly LimitSpec[] = [],
  ) {
    if (durable) epochOf(redis);
    this.limitSpecs = new Map(limits.map((l) => [l.queue, limitCalls.specText(l)]));
  }

  /** Whether `queue` has a cluster-wide limit (its fetch, ack, failure and hand-back release slots). */
  limited(queue: string): boolean {
    return this.limitSpecs.has(queue);
  }

  /** The same calls on another connection (a blocking one), with the same limits. */
  on(redis: Redis): Scripts {
    const other = new Scripts(redis, this.keys, undefined, this.limits);
    other.reopenAt = this.reopenAt;
    return other;
  }

  private outlook<T extends Outlook>(queue: string, res: T): T {
    if (res.waitMs >= 0) this.reopenAt.set(queue, monotonicMs() + res.waitMs);
    else this.reopenAt.delete(queue);
    return res;
  }

  /** Ms until the queue's next rate-blocked key reopens, as the last take said (-1: none). */
  private reopenIn(queue: string): number {
    const at = this.reopenAt.get(queue);
    return at === undefined ? -1 : Math.max(0, at - monotonicMs());
  }

  /** A script call; `buffers` uses the command's Buffer variant (payloads in the reply as Buffers). */
  call(name: ScriptName, buffers: boolean, ...args: Arg[]): Promise<unknown> {
    const run = () => runScript(this.redis, name, buffers, args);
    if (!this.durable || !DURABLE_WRITES.has(name)) return run();
    return this.durably(name, run);
  }

  /** Runs a write and confirms it (durability 'replicated'; else just runs it). `redo` re-sends it after a reconnect. */
  async durably<T>(what: string, write: () => Promise<T>, redo: () => Promise<unknown> = write): Promise<T> {
    if (!this.durable) return write();
    const since = epochOf(this.redis);
    const res = await write();
    await confirmWrite(this.redis, since, what, redo, this.durable);
    return res;
  }

  async register(node: string, ttlMs: number, infoTtlMs: number, info: Record<string, string | number>): Promise<number> {
    const k = this.keys;
    return Number(await this.call('register', false, k.nodes, k.node(node), k.nodeInfo(node), k.heartbeats, node, ttlMs, infoTtlMs, ...flat(info)));
  }

  async heartbeat(node: string, ttlMs: number, infoTtlMs: number, info: Record<string, string | number>): Promise<boolean> {
    const k = this.keys;
    return statusOf('heartbeat', HEARTBEAT_STATUS, await this.call('heartbeat', false, k.nodes, k.node(node), k.nodeInfo(node), node, ttlMs, infoTtlMs, ...flat(info)));
  }

  async fetch(queue: string, node: string, max: number, firstFetch: boolean): Promise<FetchResult> {
    const limit = this.limitSpecs.get(queue);
    if (limit !== undefined) return this.outlook(queue, await limitCalls.fetchLimited(this, limit, queue, node, max, firstFetch));
    return fetchResult(await this.call('fetch', true, ...this.fetchArgs(queue, node, max, firstFetch)));
  }

  /**
   * Blocks until the queue has a job and claims it: `BLMOVE queue → this node's claim list`,
   * with the claim script (lua/claim-5.lua) right behind it in one pipeline, so Redis confirms
   * the claim (or puts the job back when the node is fenced or the queue paused) as soon as the
   * wait ends: no extra round trip, one woken node per job, the payload sent once. `more`: jobs
   * to fetch besides the claimed one. Only for a connection of its own (it blocks).
   */
  async waitAndClaim(queue: string, node: string, more: number, timeoutS: number): Promise<ClaimResult> {
    const limit = this.limitSpecs.get(queue);
    if (limit !== undefined) return this.outlook(queue, await limitCalls.waitAndClaimLimited(this, limit, queue, node, more + 1, timeoutS, this.reopenIn(queue)));
    const k = this.keys;
    const args = [k.inprogress(queue, node), k.node(node), k.queue(queue), k.paused, Math.min(more, SCRIPT_BOUNDS.fetchMaxJobs), queue, SCRIPT_BOUNDS.fetchMaxBytes];
    const { taken, reply } = await blockThenClaim(this.redis, k, queue, node, timeoutS, 'claim', args);
    const r = reply as [number, number, ...Buffer[]];
    const status = statusOf('claim', FETCH_STATUS, r[0]);
    const claimed = Number(r[1]);
    const waited = taken === null ? 0 : 1;
    // Another count than the wait's own job: a claim left by an earlier wait whose reply was lost.
    const consistent = claimed === waited;
    const jobs = status === 'ok' ? [...(consistent && taken ? [taken as Buffer] : []), ...(r.slice(2) as Buffer[])] : [];
    return { status, jobs, consistent };
  }

  /** A fetch takes at most SCRIPT_BOUNDS.fetchMaxJobs jobs and about fetchMaxBytes of payloads per call. */
  private fetchArgs(queue: string, node: string, max: number, firstFetch: boolean): (string | number)[] {
    const k = this.keys;
    const n = Math.min(max, SCRIPT_BOUNDS.fetchMaxJobs);
    return [k.queue(queue), k.inprogress(queue, node), k.node(node), k.nodeQueues(node), k.paused, n, queue, firstFetch ? '1' : '0', SCRIPT_BOUNDS.fetchMaxBytes];
  }

  /**
   * Acks finished jobs in one call; with `refill` > 0 also fetches up to that many new ones
   * (bounded like a fetch). The caller bounds the call's size (SCRIPT_BOUNDS.ackMaxJobs/Bytes;
   * the Settler splits bigger batches). A byte-named job is its exact bytes, as a Buffer or as
   * the string whose UTF-8 encoding they are.
   */
  async ack(queue: string, node: string, refs: AckRef[], refill = 0, tags: AckTags = {}): Promise<AckResult> {
    const limit = this.limitSpecs.get(queue);
    if (limit !== undefined) {
      if (!tags.ids || tags.ids.length !== refs.length) throw new Error(`ack of limited queue ${queue}: every job needs its identity`);
      return limitCalls.ackLimited(this, limit, queue, node, refs, tags.ids, refill, tags.locks);
    }
    const { args, tomb } = ackJobArgs(refs);
    const res = (await this.call('ack', true, ...ackHead(this.keys, queue, node, refill, tomb), ...args, ...lockTail(this.keys.prefix, tags.locks))) as unknown[];
    return ackResult('ack', res);
  }

  /** Settles a failed job: `settled`, `not_held` (the node is alive but no longer holds it) or `fenced`. */
  async fail(a: FailArgs): Promise<FailStatus> {
    const k = this.keys;
    // fail-8's optional tail: the job's unique lock (kept by a retry, released by dead and drop)
    // and a limited queue's slot, released in the same call.
    const limited = this.limitSpecs.has(a.queue);
    const tail = a.unique || limited ? [k.prefix, a.unique?.key ?? '', a.unique?.jid ?? '', limited ? a.queue : '', limited ? payloadIdentity(a.raw) : ''] : [];
    const reply = await this.call(
      'fail',
      false,
      k.inprogress(a.queue, a.node),
      k.retry,
      k.dead,
      k.processed(),
      k.processed(a.queue),
      k.failed(),
      k.failed(a.queue),
      k.node(a.node),
      a.raw,
      a.mode,
      a.payload,
      a.score,
      a.deadMinScore,
      a.deadMaxJobs,
      ...tail,
    );
    throwIfWrongType('fail', reply);
    return statusOf('fail', FAIL_STATUS, reply);
  }

  /** `from: 'claim'` hands back jobs left in the node's claim list (lua/claim-5.lua) instead. */
  async handback(queue: string, node: string, raws: Buffer[], from: 'inprogress' | 'claim' = 'inprogress'): Promise<number> {
    if (this.limitSpecs.has(queue)) return limitCalls.handbackLimited(this, queue, node, raws, from);
    const list = from === 'claim' ? this.keys.nodeClaim(node, queue) : this.keys.inprogress(queue, node);
    let moved = 0;
    // In calls of at most HANDBACK.maxJobs jobs and maxBytes bytes: each job is two scans of the
    // list, so one call for 5 000 jobs would block Redis for seconds.
    for (const chunk of chunksOf(raws, HANDBACK.maxJobs, HANDBACK.maxBytes)) {
      const reply = await this.call('handback', false, list, this.keys.queue(queue), ...chunk);
      throwIfWrongType('handback', reply);
      moved += Number(reply);
    }
    return moved;
  }

  /**
   * After a failover: takes back from the queue jobs this node runs but no longer holds (their
   * fetch was undone), searching `depth` jobs from the fetch end (lua/reclaim-3.lua). Returns the
   * number taken back, or -1 when the node's heartbeat key is gone.
   */
  async reclaim(queue: string, node: string, raws: Buffer[], depth: number): Promise<number> {
    let taken = 0;
    for (const chunk of chunksOf(raws, HANDBACK.maxJobs, HANDBACK.maxBytes)) {
      const reply = await this.call('reclaim', false, this.keys.queue(queue), this.keys.inprogress(queue, node), this.keys.node(node), depth, ...chunk);
      throwIfWrongType('reclaim', reply);
      if (Number(reply) < 0) return -1;
      taken += Number(reply);
    }
    return taken;
  }

  /** Recounts the limited queues' held counts from the slot records and fixes what disagrees (lua/limit-audit-2.lua). */
  limitAudit(): Promise<limitCalls.AuditResult> {
    return limitCalls.limitAudit(this, this.limits);
  }

  reap(o: ReapOptions): Promise<ReapResult> {
    return reapCalls.reap(this, o);
  }

  /** Reaps a node to the end, batch by batch. Stops early if the node turns out to be alive or a key has the wrong type. */
  reapAll(o: ReapOptions): Promise<ReapResult> {
    return reapCalls.reapAll(this, o);
  }

  reapScan(max: number, retryMs: number): Promise<ReapScanResult> {
    return reapCalls.reapScan(this, max, retryMs);
  }

  nodeSweep(cursor: string, count: number): Promise<{ cursor: string; seen: number; added: number }> {
    return reapCalls.nodeSweep(this, cursor, count);
  }

  requeueOrphan(queue: string, node: string, batch: number, kind: 'inprogress' | 'claim' = 'inprogress') {
    return reapCalls.requeueOrphan(this, queue, node, batch, kind);
  }

  /** Decides one tick of a periodic job (lua/cron-tick-8.lua): fired, skipped, missed, or a no-op. */
  cronTick(c: CronTickCall): Promise<CronTickResult> {
    return cronTick(this, c);
  }

  /**
   * The next `n` entries of a sorted set after the cursor entry (lua/set-page-1.lua), as [member,
   * score] with the score as Redis wrote it (pass it back unchanged as the next cursor).
   */
  async setPage(key: string, order: 'asc' | 'desc', n: number, after?: { score: string; member: Buffer }): Promise<[Buffer, string][]> {
    const flatReply = (await this.call('setPage', true, key, order, n, after?.score ?? '', after?.member ?? '')) as Buffer[];
    const out: [Buffer, string][] = [];
    for (let i = 0; i < flatReply.length; i += 2) out.push([flatReply[i], flatReply[i + 1].toString()]);
    return out;
  }

  /** Takes the job's unique lock and pushes it, or returns the holder (lua/enqueue-unique-3.lua). */
  enqueueUnique(e: UniqueEnqueue): Promise<UniqueEnqueueResult> {
    return uniqueCalls.enqueueUnique(this, e);
  }

  /** Releases the lock of a job that is starting (until 'started'; lua/unique-start-1.lua). */
  uniqueStart(queue: string, node: string, raw: Buffer, lock: UniqueRef): Promise<'released' | 'not_owner' | 'not_held'> {
    return uniqueCalls.uniqueStart(this, queue, node, raw, lock.key, lock.jid);
  }

  /** Deletes a job by hand from a queue or sorted set and releases its lock (lua/unique-drop-1.lua). */
  uniqueDrop(container: string, member: Buffer | string): Promise<{ removed: number; released: boolean }> {
    return uniqueCalls.uniqueDrop(this, container, member);
  }

  /** One bounded pass of the unique-lock sweeper (lua/unique-sweep-2.lua). */
  uniqueSweep(graceMs: number, by: string): Promise<SweepResult> {
    return uniqueCalls.uniqueSweep(this, graceMs, by);
  }

  /** A lock's holder, info and where the holder is (lua/unique-why-1.lua). */
  uniqueWhy(key: string): Promise<UniqueWhy> {
    return uniqueCalls.uniqueWhy(this, key);
  }

  /** Keeps an explanation for a malformed payload buried in `dead` (bounded list, newest first). */
  async recordMalformed(queue: string, node: string, raw: Buffer | string, error: string, nowS: number): Promise<void> {
    const preview = Buffer.isBuffer(raw) ? raw.subarray(0, 500).toString() : raw.slice(0, 500);
    const entry = JSON.stringify({ at: nowS, queue, node, error, sha1: sha1(raw), preview });
    await this.redis.multi().lpush(this.keys.malformed, entry).ltrim(this.keys.malformed, 0, 999).exec();
  }

  /**
   * Moves one sorted-set entry to its queue if it is still there (`moved`) or not (`gone`). With
   * `unique` the job must own its lock (taken when free): `locked` when another job holds it.
   */
  async requeue(
    set: 'schedule' | 'retry' | 'dead',
    member: Buffer | string,
    payload: Buffer | string,
    queue: string,
    unique?: UniqueRef & { until?: 'done' | 'started' },
  ): Promise<'moved' | 'gone' | { locked: string }> {
    const k = this.keys;
    const lock = unique ? [k.prefix, unique.key, unique.jid, unique.until ?? 'done'] : [];
    const reply = await this.call('requeue', false, k[set], k.queue(queue), k.queues, member, payload, queue, ...lock);
    if (Array.isArray(reply) && String(reply[0]) === 'locked') return { locked: String(reply[1]) };
    throwIfWrongType('requeue', reply);
    return statusOf('requeue', REQUEUE_STATUS, reply);
  }

  /** Appends an event of a node's life to the fleet's timeline (lua/fleet-event-1.lua); its Redis time in ms. */
  async fleetEvent(kind: FleetEventKind, node: string, identity: string, detail = ''): Promise<number> {
    const reply = await this.call('fleetEvent', false, this.keys.events, FLEET.eventsKept, kind, node, identity, detail);
    throwIfWrongType('fleetEvent', reply);
    return Number(reply);
  }

  /** Moves one retry/schedule entry to dead as it is (lua/kill-2.lua), trimming dead by age and size. */
  async kill(
    set: 'schedule' | 'retry',
    member: Buffer | string,
    nowS: number,
    deadMinScore: number,
    deadMaxJobs: number,
    releaseLock = false,
  ): Promise<'moved' | 'gone'> {
    const k = this.keys;
    const reply = await this.call('kill', false, k[set], k.dead, member, nowS, deadMinScore, deadMaxJobs, ...(releaseLock ? [k.prefix] : []));
    throwIfWrongType('kill', reply);
    return statusOf('kill', REQUEUE_STATUS, reply);
  }

  async promote(set: 'schedule' | 'retry', nowS: number, entries: PromoteEntry[]): Promise<{ queued: number; dead: number }> {
    const k = this.keys;
    const args: Arg[] = [];
    for (const e of entries) args.push(e.member, e.payload, e.queue);
    const reply = await this.call('promote', false, k[set], k.dead, k.queues, k.prefix, nowS, ...args);
    throwIfWrongType('promote', reply);
    const [queued, dead] = (reply as unknown[]).map(Number);
    return { queued, dead };
  }

  /**
   * Adds a supervisor's totals to `stat:processed:<date>`/`stat:failed:<date>` exactly once
   * (lua/flush-daily-stats-3.lua: only the part not added before). Returns what has been added
   * in all; throws WrongTypeError (nothing written) when a counter holds a non-integer.
   */
  async flushDailyStats(f: DailyStatsFlush): Promise<DailyTotals> {
    const k = this.keys;
    const reply = await this.call(
      'flushDailyStats',
      false,
      k.statsFlushed(f.identity),
      k.processedOn(f.date),
      k.failedOn(f.date),
      f.totals.processed,
      f.totals.failed,
      f.added.processed,
      f.added.failed,
      f.statsTtlS,
      f.recordTtlS,
    );
    throwIfWrongType('flushDailyStats', reply);
    const [processed, failed] = (reply as unknown[]).map(Number);
    return { processed, failed };
  }
}

export type { ChainableCommander };
