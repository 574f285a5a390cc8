// Typed calls of the Lua scripts in lua/ (loaded by script-source.ts with ioredis
// defineCommand). Payloads are bytes: every payload in a reply is a Buffer (the commands'
// Buffer variants) and payload arguments may be Buffers, so a payload that is not UTF-8 is
// matched and moved byte for byte. Raw statuses are named through statuses.ts.
import { createHash } from 'node:crypto';
import type { Redis, ChainableCommander } from 'ioredis';
import { SCRIPT_BOUNDS } from '../config/defaults.js';
import type { Keys } from './keys.js';
import { scriptSources } from './script-source.js';
import {
  ALIVE_STATUS,
  FAIL_STATUS,
  FETCH_STATUS,
  HEARTBEAT_STATUS,
  ORPHAN_STATUS,
  REAP_STATUS,
  REFILL_STATUS,
  REQUEUE_STATUS,
  WrongTypeError,
  statusOf,
  throwIfWrongType,
} from './statuses.js';

export { scriptSources } from './script-source.js';

/** The scripts the wrappers below call (the contract test checks it against lua/). */
export const WRAPPED_SCRIPTS = ['register', 'heartbeat', 'fetch', 'ack', 'fail', 'handback', 'reap', 'requeueOrphan', 'requeue', 'promote'] as const;
export type ScriptName = (typeof WRAPPED_SCRIPTS)[number];

type Arg = string | number | Buffer;
type Raw = (...args: Arg[]) => Promise<unknown>;

function define(redis: Redis): Record<string, Raw> {
  const r = redis as unknown as Record<string, Raw>;
  for (const s of scriptSources()) {
    if (typeof r[s.name] !== 'function') redis.defineCommand(s.name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
  }
  return r;
}

export type FetchResult = { status: 'ok'; jobs: Buffer[] } | { status: 'paused' | 'fenced'; jobs: [] };

/**
 * How an ack names one job (lua/include/held-job.lua). `hint` is the position from the tail of the
 * in-progress list where the worker expects it (1 = the tail, 0 = unknown): the script reads that
 * element only. By bytes: the element must equal them (else the tail-most equal one is found in C).
 * By hash: it must have `length` bytes, `marker` at `offset` and this SHA-1; nothing is searched.
 * A plain Buffer or string is a job by bytes without a hint.
 */
export type AckRef = Buffer | string | { bytes: Buffer | string; hint: number } | { hint: number; length: number; offset: number; marker: Buffer; sha1: string };

export interface AckResult {
  removed: number;
  alive: boolean;
  /** What the refill did: fetched (possibly nothing), queue paused, node fenced, or not asked. */
  refill: 'ok' | 'paused' | 'fenced' | 'none';
  /** Indexes (into the refs passed) of the jobs named by hash that were not found: ack them by bytes. */
  missing: number[];
  jobs: Buffer[];
}
export interface ReapResult {
  /** `wrongtype`: a key the batch would write holds the wrong type; nothing was changed (see `wrongKey`). */
  status: 'alive' | 'gone' | 'reaped' | 'wrongtype';
  moved: number;
  buried: number;
  remaining: number;
  /** Requeued jobs without evidence that they started: no recovery counted for them. */
  unstarted: number;
  wrongKey?: string;
}
export type FailStatus = 'settled' | 'not_held' | 'fenced';

export interface ReapOptions {
  node: string;
  by: string;
  batch: number;
  maxRecoveries: number;
  recoveryWindowMs: number;
  /** Workers run a recovered job alone from this many counted recoveries on (passed on for the record). */
  isolateFrom: number;
  force: boolean;
  countRecoveries: boolean;
  historyLength: number;
  deadTimeoutS: number;
  deadMaxJobs: number;
  /** Identities of jobs the caller knows had started on the node (its crashed child's last report). */
  startedIds?: string[];
}

export interface FailArgs {
  queue: string;
  node: string;
  raw: Buffer;
  mode: 'retry' | 'dead' | 'drop';
  payload: Buffer | string;
  score: number;
  deadMinScore: number;
  deadMaxJobs: number;
}

export interface PromoteEntry {
  member: Buffer;
  payload: Buffer | string;
  queue: string;
}

/** Typed calls of the Lua scripts on one connection. */
export class Scripts {
  private readonly r: Record<string, Raw>;

  constructor(
    readonly redis: Redis,
    readonly keys: Keys,
  ) {
    this.r = define(redis);
  }

  /** A script call; `buffers` uses the command's Buffer variant (payloads in the reply as Buffers). */
  private call(name: ScriptName, buffers: boolean, ...args: Arg[]): Promise<unknown> {
    return this.r[buffers ? `${name}Buffer` : name](...args);
  }

  async register(node: string, ttlMs: number, infoTtlMs: number, info: Record<string, string | number>): Promise<number> {
    const k = this.keys;
    return Number(await this.call('register', false, k.nodes, k.node(node), k.nodeInfo(node), node, ttlMs, infoTtlMs, ...flat(info)));
  }

  async heartbeat(node: string, ttlMs: number, infoTtlMs: number, info: Record<string, string | number>): Promise<boolean> {
    const k = this.keys;
    return statusOf('heartbeat', HEARTBEAT_STATUS, await this.call('heartbeat', false, k.nodes, k.node(node), k.nodeInfo(node), node, ttlMs, infoTtlMs, ...flat(info)));
  }

  async fetch(queue: string, node: string, max: number, firstFetch: boolean): Promise<FetchResult> {
    return fetchResult(await this.call('fetch', true, ...this.fetchArgs(queue, node, max, firstFetch)));
  }

  /**
   * Blocks until the queue has a job (BLMOVE q q: a rotation that takes nothing) and runs the
   * fetch script right behind it in one pipeline: Redis runs the fetch as soon as the wait ends,
   * so an idle pickup costs no extra round trip and still goes through the fenced fetch.
   * Only for a connection of its own (it blocks).
   */
  async waitAndFetch(queue: string, node: string, max: number, timeoutS: number): Promise<FetchResult> {
    const key = this.keys.queue(queue);
    const pipe = this.redis.pipeline().blmove(key, key, 'RIGHT', 'RIGHT', timeoutS) as unknown as Record<string, (...a: unknown[]) => ChainableCommander>;
    const res = await pipe.fetchBuffer(...this.fetchArgs(queue, node, max, false)).exec();
    const [err, reply] = res?.[1] ?? [new Error('pipeline aborted'), null];
    if (err) throw err;
    return fetchResult(reply);
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

  async handback(queue: string, node: string, raws: Buffer[]): Promise<number> {
    if (raws.length === 0) return 0;
    const reply = await this.call('handback', false, this.keys.inprogress(queue, node), this.keys.queue(queue), ...raws);
    throwIfWrongType('handback', reply);
    return Number(reply);
  }

  async reap(o: ReapOptions): Promise<ReapResult> {
    const k = this.keys;
    const reply = (await this.call(
      'reap',
      false,
      k.nodes,
      k.reaping,
      k.dead,
      k.prefix,
      o.node,
      o.batch,
      o.maxRecoveries,
      o.recoveryWindowMs,
      o.force ? '1' : '0',
      o.by,
      o.historyLength,
      Math.round(o.deadTimeoutS),
      o.deadMaxJobs,
      o.countRecoveries ? '1' : '0',
      o.isolateFrom,
      JSON.stringify(o.startedIds ?? []),
    )) as unknown[];
    const status = statusOf('reap', REAP_STATUS, reply[0]);
    const [moved, buried, remaining, unstarted] = reply.slice(1, 5).map(Number);
    return { status, moved, buried, remaining, unstarted, ...(status === 'wrongtype' ? { wrongKey: String(reply[5]) } : {}) };
  }

  /** Reaps a node to the end, batch by batch. Stops early if the node turns out to be alive or a key has the wrong type. */
  async reapAll(o: ReapOptions): Promise<ReapResult> {
    const total: ReapResult = { status: 'reaped', moved: 0, buried: 0, remaining: 0, unstarted: 0 };
    for (;;) {
      const r = await this.reap(o);
      total.moved += r.moved;
      total.buried += r.buried;
      total.unstarted += r.unstarted;
      total.status = r.status;
      total.remaining = r.remaining;
      if (r.wrongKey !== undefined) total.wrongKey = r.wrongKey;
      if (r.status === 'alive' || r.status === 'wrongtype' || r.remaining === 0) return total;
    }
  }

  /** One batch of handing an unowned in-progress list back to the front of its queue (lua/requeue-orphan-2.lua). */
  async requeueOrphan(queue: string, node: string, batch: number): Promise<{ status: 'moved' | 'owned' | 'alive'; moved: number; remaining: number }> {
    const k = this.keys;
    const reply = (await this.call('requeueOrphan', false, k.inprogress(queue, node), k.queue(queue), k.prefix, node, batch)) as unknown[];
    const status = statusOf('requeueOrphan', ORPHAN_STATUS, reply[0]);
    if (status === 'wrongtype') throw new WrongTypeError('requeueOrphan', String(reply[3]));
    return { status, moved: Number(reply[1]), remaining: Number(reply[2]) };
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

  async promote(set: 'schedule' | 'retry', nowS: number, entries: PromoteEntry[]): Promise<{ queued: number; dead: number }> {
    const k = this.keys;
    const args: Arg[] = [];
    for (const e of entries) args.push(e.member, e.payload, e.queue);
    const reply = await this.call('promote', false, k[set], k.dead, k.queues, k.prefix, nowS, ...args);
    throwIfWrongType('promote', reply);
    const [queued, dead] = (reply as unknown[]).map(Number);
    return { queued, dead };
  }
}

function fetchResult(reply: unknown): FetchResult {
  const res = reply as [number, ...Buffer[]];
  const status = statusOf('fetch', FETCH_STATUS, res[0]);
  if (status === 'ok') return { status, jobs: res.slice(1) as Buffer[] };
  return { status, jobs: [] };
}

/**
 * The ack's tombstone: SCRIPT_BOUNDS.tombstone, lengthened until it differs from every job named
 * by its bytes (ack-6 refuses a call where one equals it; any other collision is harmless there).
 */
export function tombstoneFor(named: (Buffer | string)[]): string {
  let t: string = SCRIPT_BOUNDS.tombstone;
  const same = (x: Buffer | string) => (typeof x === 'string' ? x === t : x.length === Buffer.byteLength(t) && x.equals(Buffer.from(t)));
  while (named.some(same)) t += '\u0000';
  return t;
}

const sha1 = (s: Buffer | string) => createHash('sha1').update(s).digest('hex');

function flat(obj: Record<string, string | number>): (string | number)[] {
  return Object.entries(obj).flat();
}

export type { ChainableCommander };
