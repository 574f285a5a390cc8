// Typed calls of the Lua scripts in lua/ (loaded by script-source.ts with ioredis
// defineCommand). Payloads are bytes: every payload in a reply is a Buffer (the commands'
// Buffer variants) and payload arguments may be Buffers, so a payload that is not UTF-8 is
// matched and moved byte for byte. Raw statuses are named through statuses.ts.
import type { Redis, ChainableCommander } from 'ioredis';
import { FLEET, HANDBACK, SCRIPT_BOUNDS } from '../config/defaults.js';
import type { Keys } from './keys.js';
import { scriptSources } from './script-source.js';
import { ALIVE_STATUS, FAIL_STATUS, FETCH_STATUS, HEARTBEAT_STATUS, REFILL_STATUS, REQUEUE_STATUS, statusOf, throwIfWrongType } from './statuses.js';

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
} from './script-types.js';
import { chunksOf, fetchResult, flat, sha1, tombstoneFor } from './script-helpers.js';
import * as reapCalls from './reap-calls.js';
import { confirmWrite, epochOf, type DurableOptions } from './replication.js';
import { cronTick, type CronTickCall, type CronTickResult } from './cron-calls.js';

/** The scripts the wrappers below call (the contract test checks it against lua/). */
export const WRAPPED_SCRIPTS = [
  'register',
  'heartbeat',
  'fetch',
  'claim',
  'ack',
  'fail',
  'handback',
  'reap',
  'reapScan',
  'nodeSweep',
  'requeueOrphan',
  'requeue',
  'kill',
  'fleetEvent',
  'promote',
  'flushDailyStats',
  'reclaim',
  'cronTick',
  'setPage',
] as const;
export type ScriptName = (typeof WRAPPED_SCRIPTS)[number];

/**
 * With durability 'replicated', the writes a replica must confirm (WAIT after each, the same call
 * again after a reconnect: each is idempotent). The ack is confirmed by the Settler, which re-acks
 * by bytes; cronTick confirms itself when it wrote (src/redis/cron-calls.ts); fetches, heartbeats
 * and the reaper's schedule are not confirmed (losing one in a failover loses no job:
 * src/redis/replication.ts, docs/redis-ha.md).
 */
const DURABLE_WRITES: ReadonlySet<ScriptName> = new Set(['register', 'fail', 'handback', 'reap', 'requeueOrphan', 'requeue', 'promote', 'reclaim']);

type Arg = string | number | Buffer;
type Raw = (...args: Arg[]) => Promise<unknown>;

function define(redis: Redis): Record<string, Raw> {
  const r = redis as unknown as Record<string, Raw>;
  for (const s of scriptSources()) {
    if (typeof r[s.name] !== 'function') redis.defineCommand(s.name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
  }
  return r;
}

/** What a supervisor records of its nodes' lives (the reaps are recovery events). */
export const FLEET_EVENT_KINDS = ['joined', 'left', 'exited', 'fenced'] as const;
export type FleetEventKind = (typeof FLEET_EVENT_KINDS)[number];

/** Typed calls of the Lua scripts on one connection. */
export class Scripts {
  private readonly r: Record<string, Raw>;

  constructor(
    readonly redis: Redis,
    readonly keys: Keys,
    /** Set with durability 'replicated': the writes of DURABLE_WRITES are confirmed by a replica. */
    readonly durable?: DurableOptions,
  ) {
    this.r = define(redis);
    if (durable) epochOf(redis);
  }

  /** A script call; `buffers` uses the command's Buffer variant (payloads in the reply as Buffers). */
  call(name: ScriptName, buffers: boolean, ...args: Arg[]): Promise<unknown> {
    const run = () => this.r[buffers ? `${name}Buffer` : name](...args);
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
    const k = this.keys;
    const claim = k.nodeClaim(node, queue);
    const pipe = this.redis.pipeline().blmoveBuffer(k.queue(queue), claim, 'RIGHT', 'LEFT', timeoutS) as unknown as Record<
      string,
      (...a: unknown[]) => ChainableCommander
    >;
    const res = await pipe
      .claimBuffer(
        claim,
        k.inprogress(queue, node),
        k.node(node),
        k.queue(queue),
        k.paused,
        Math.min(more, SCRIPT_BOUNDS.fetchMaxJobs),
        queue,
        SCRIPT_BOUNDS.fetchMaxBytes,
      )
      .exec();
    const [waitErr, taken] = res?.[0] ?? [new Error('pipeline aborted'), null];
    const [err, reply] = res?.[1] ?? [new Error('pipeline aborted'), null];
    if (err) throw err;
    if (waitErr) throw waitErr;
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
  async ack(queue: string, node: string, refs: AckRef[], refill = 0): Promise<AckResult> {
    const k = this.keys;
    const jobArgs: Arg[] = [];
    const named: (Buffer | string)[] = [];
    for (const r of refs) {
      if (typeof r === 'string' || Buffer.isBuffer(r)) {
        jobArgs.push('B0', r);
        named.push(r);
      } else if ('remove' in r) {
        jobArgs.push('R', r.remove);
        named.push(r.remove);
      } else if ('bytes' in r) {
        jobArgs.push(`B${r.hint}`, r.bytes);
        named.push(r.bytes);
      } else jobArgs.push(`H${r.hint}:${r.length}:${r.offset}:${r.sha1}`, r.marker);
    }
    const res = (await this.call(
      'ack',
      true,
      k.inprogress(queue, node),
      k.processed(),
      k.processed(queue),
      k.node(node),
      k.queue(queue),
      k.paused,
      Math.min(refill, SCRIPT_BOUNDS.fetchMaxJobs),
      queue,
      SCRIPT_BOUNDS.fetchMaxBytes,
      tombstoneFor(named),
      ...jobArgs,
    )) as unknown[];
    const m = Number(res[3]);
    return {
      removed: Number(res[0]),
      alive: statusOf('ack', ALIVE_STATUS, res[1]),
      refill: statusOf('ack', REFILL_STATUS, res[2]),
      missing: res.slice(4, 4 + m).map((x) => Number(x) - 1),
      jobs: res.slice(4 + m) as Buffer[],
    };
  }

  /** Settles a failed job: `settled`, `not_held` (the node is alive but no longer holds it) or `fenced`. */
  async fail(a: FailArgs): Promise<FailStatus> {
    const k = this.keys;
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
    );
    throwIfWrongType('fail', reply);
    return statusOf('fail', FAIL_STATUS, reply);
  }

  /** `from: 'claim'` hands back jobs left in the node's claim list (lua/claim-5.lua) instead. */
  async handback(queue: string, node: string, raws: Buffer[], from: 'inprogress' | 'claim' = 'inprogress'): Promise<number> {
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

  /** Keeps an explanation for a malformed payload buried in `dead` (bounded list, newest first). */
  async recordMalformed(queue: string, node: string, raw: Buffer | string, error: string, nowS: number): Promise<void> {
    const preview = Buffer.isBuffer(raw) ? raw.subarray(0, 500).toString() : raw.slice(0, 500);
    const entry = JSON.stringify({ at: nowS, queue, node, error, sha1: sha1(raw), preview });
    await this.redis.multi().lpush(this.keys.malformed, entry).ltrim(this.keys.malformed, 0, 999).exec();
  }

  /** Moves one sorted-set entry to its queue if it is still there (`moved`) or not (`gone`). */
  async requeue(set: 'schedule' | 'retry' | 'dead', member: Buffer | string, payload: Buffer | string, queue: string): Promise<'moved' | 'gone'> {
    const k = this.keys;
    const reply = await this.call('requeue', false, k[set], k.queue(queue), k.queues, member, payload, queue);
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
  async kill(set: 'schedule' | 'retry', member: Buffer | string, nowS: number, deadMinScore: number, deadMaxJobs: number): Promise<'moved' | 'gone'> {
    const k = this.keys;
    const reply = await this.call('kill', false, k[set], k.dead, member, nowS, deadMinScore, deadMaxJobs);
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
