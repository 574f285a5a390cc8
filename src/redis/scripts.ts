// Loads lua/<intent>-<numKeys>.lua with ioredis defineCommand and wraps each script in a typed
// call. `-- @include name` lines pull in lua/include/name.lua (shared Lua helpers).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Redis, ChainableCommander } from 'ioredis';
import type { Keys } from './keys.js';

const LUA_DIR = fileURLToPath(new URL('../../lua/', import.meta.url));

interface ScriptSource { name: string; numberOfKeys: number; lua: string }

let cache: ScriptSource[] | undefined;

/** Every script in lua/, with includes resolved. */
export function scriptSources(): ScriptSource[] {
  if (cache) return cache;
  cache = fs.readdirSync(LUA_DIR)
    .filter((f) => /^[a-z-]+-\d+\.lua$/.test(f))
    .map((file) => {
      const m = /^([a-z-]+)-(\d+)\.lua$/.exec(file)!;
      const text = fs.readFileSync(path.join(LUA_DIR, file), 'utf8');
      const lua = text.replace(/^-- @include ([a-z-]+)$/m, (_l, inc: string) =>
        fs.readFileSync(path.join(LUA_DIR, 'include', `${inc}.lua`), 'utf8'));
      return { name: m[1].replace(/-([a-z])/g, (_x, c: string) => c.toUpperCase()), numberOfKeys: Number(m[2]), lua };
    });
  return cache;
}

type Raw = (...args: (string | number)[]) => Promise<unknown>;

function define(redis: Redis): Record<string, Raw> {
  const r = redis as unknown as Record<string, Raw>;
  for (const s of scriptSources()) {
    if (typeof r[s.name] !== 'function') redis.defineCommand(s.name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
  }
  return r;
}

export type FetchResult = { status: 'ok'; jobs: string[] } | { status: 'paused' | 'fenced'; jobs: [] };
export interface AckResult {
  removed: number;
  alive: boolean;
  /** What the refill did: fetched (possibly nothing), queue paused, node fenced, or not asked. */
  refill: 'ok' | 'paused' | 'fenced' | 'none';
  jobs: string[];
}
export interface ReapResult { status: 'alive' | 'gone' | 'reaped'; moved: number; buried: number; remaining: number }

export interface ReapOptions {
  node: string;
  by: string;
  batch: number;
  maxRecoveries: number;
  recoveryWindowMs: number;
  /** Recovered jobs get `verk_recovered: n` (run alone) from this many recoveries on. */
  isolateFrom: number;
  force: boolean;
  countRecoveries: boolean;
  historyLength: number;
  deadTimeoutS: number;
  deadMaxJobs: number;
}

export interface FailArgs {
  queue: string;
  node: string;
  raw: string;
  mode: 'retry' | 'dead' | 'drop';
  payload: string;
  score: number;
  deadMinScore: number;
  deadMaxJobs: number;
}

/** Typed calls of the Lua scripts on one connection. */
export class Scripts {
  private readonly r: Record<string, Raw>;

  constructor(readonly redis: Redis, readonly keys: Keys) {
    this.r = define(redis);
  }

  async register(node: string, ttlMs: number, infoTtlMs: number, info: Record<string, string | number>): Promise<number> {
    const k = this.keys;
    return Number(await this.r.register(k.nodes, k.node(node), k.nodeInfo(node), node, ttlMs, infoTtlMs, ...flat(info)));
  }

  async heartbeat(node: string, ttlMs: number, infoTtlMs: number, info: Record<string, string | number>): Promise<boolean> {
    const k = this.keys;
    return (await this.r.heartbeat(k.nodes, k.node(node), k.nodeInfo(node), node, ttlMs, infoTtlMs, ...flat(info))) === 1;
  }

  async fetch(queue: string, node: string, max: number, firstFetch: boolean): Promise<FetchResult> {
    return fetchResult(await this.r.fetch(...this.fetchArgs(queue, node, max, firstFetch)));
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
    const res = await pipe.fetch(...this.fetchArgs(queue, node, max, false)).exec();
    const [err, reply] = res?.[1] ?? [new Error('pipeline aborted'), null];
    if (err) throw err;
    return fetchResult(reply);
  }

  private fetchArgs(queue: string, node: string, max: number, firstFetch: boolean): (string | number)[] {
    const k = this.keys;
    return [k.queue(queue), k.inprogress(queue, node), k.node(node), k.nodeQueues(node), k.paused, max, queue, firstFetch ? '1' : '0'];
  }

  /** Acks finished jobs; with `refill` > 0 also fetches up to that many new ones in the same call. */
  async ack(queue: string, node: string, raws: string[], refill = 0): Promise<AckResult> {
    const k = this.keys;
    const res = (await this.r.ack(k.inprogress(queue, node), k.processed(), k.processed(queue), k.node(node), k.queue(queue), k.paused,
      refill, queue, ...raws)) as [number, number, number, ...string[]];
    const status = res[2] === 1 ? 'ok' : res[2] === 0 ? 'paused' : res[2] === -1 ? 'fenced' : 'none';
    return { removed: res[0], alive: res[1] === 1, refill: status, jobs: res.slice(3) as string[] };
  }

  /** 1 = settled, 0 = not held (node alive), -1 = not held and the node is fenced. */
  async fail(a: FailArgs): Promise<1 | 0 | -1> {
    const k = this.keys;
    return (await this.r.fail(k.inprogress(a.queue, a.node), k.retry, k.dead, k.processed(), k.processed(a.queue), k.failed(), k.failed(a.queue), k.node(a.node),
      a.raw, a.mode, a.payload, a.score, a.deadMinScore, a.deadMaxJobs)) as 1 | 0 | -1;
  }

  async handback(queue: string, node: string, raws: string[]): Promise<number> {
    if (raws.length === 0) return 0;
    return Number(await this.r.handback(this.keys.inprogress(queue, node), this.keys.queue(queue), ...raws));
  }

  async reap(o: ReapOptions): Promise<ReapResult> {
    const k = this.keys;
    const [status, moved, buried, remaining] = (await this.r.reap(k.nodes, k.reaping, k.dead,
      k.prefix, o.node, o.batch, o.maxRecoveries, o.recoveryWindowMs, o.force ? '1' : '0', o.by, o.historyLength,
      Math.round(o.deadTimeoutS), o.deadMaxJobs, o.countRecoveries ? '1' : '0', o.isolateFrom)) as [ReapResult['status'], number, number, number];
    return { status, moved, buried, remaining };
  }

  /** Reaps a node to the end, batch by batch. Stops early if the node turns out to be alive. */
  async reapAll(o: ReapOptions): Promise<ReapResult> {
    const total: ReapResult = { status: 'reaped', moved: 0, buried: 0, remaining: 0 };
    for (;;) {
      const r = await this.reap(o);
      total.moved += r.moved;
      total.buried += r.buried;
      total.status = r.status;
      total.remaining = r.remaining;
      if (r.status === 'alive' || r.remaining === 0) return total;
    }
  }

  /** One batch of handing an unowned in-progress list back to the front of its queue (lua/requeue-orphan-2.lua). */
  async requeueOrphan(queue: string, node: string, batch: number): Promise<{ status: 'moved' | 'owned' | 'alive'; moved: number; remaining: number }> {
    const k = this.keys;
    const [status, moved, remaining] = (await this.r.requeueOrphan(k.inprogress(queue, node), k.queue(queue), k.prefix, node, batch)) as ['moved' | 'owned' | 'alive', number, number];
    return { status, moved, remaining };
  }

  /** Keeps an explanation for a malformed payload buried in `dead` (bounded list, newest first). */
  async recordMalformed(queue: string, node: string, raw: string, error: string, nowS: number): Promise<void> {
    const entry = JSON.stringify({ at: nowS, queue, node, error, sha1: sha1(raw), preview: raw.slice(0, 500) });
    await this.redis.multi().lpush(this.keys.malformed, entry).ltrim(this.keys.malformed, 0, 999).exec();
  }

  /** Moves one sorted-set entry to its queue if it is still there (1) or not (0). */
  async requeue(set: 'schedule' | 'retry' | 'dead', member: string, payload: string, queue: string): Promise<0 | 1> {
    const k = this.keys;
    return Number(await this.r.requeue(k[set], k.queue(queue), k.queues, member, payload, queue)) as 0 | 1;
  }

  async promote(set: 'schedule' | 'retry', nowS: number, entries: { member: string; payload: string; queue: string }[]): Promise<{ queued: number; dead: number }> {
    const k = this.keys;
    const args: string[] = [];
    for (const e of entries) args.push(e.member, e.payload, e.queue);
    const [queued, dead] = (await this.r.promote(k[set], k.dead, k.queues, k.prefix, nowS, ...args)) as [number, number];
    return { queued, dead };
  }
}

function fetchResult(reply: unknown): FetchResult {
  const res = reply as [number, ...string[]];
  if (res[0] === 1) return { status: 'ok', jobs: res.slice(1) as string[] };
  return { status: res[0] === 0 ? 'paused' : 'fenced', jobs: [] };
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

function flat(obj: Record<string, string | number>): (string | number)[] {
  return Object.entries(obj).flat();
}

export type { ChainableCommander };
