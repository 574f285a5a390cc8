// Small pure helpers of the script wrappers (src/redis/scripts.ts): reply decoding, the ack's
// tombstone, cutting a batch into bounded calls, argument flattening.
import { createHash } from 'node:crypto';
import { SCRIPT_BOUNDS } from '../config/defaults.js';
import type { AckRef, AckResult, FetchResult } from './script-types.js';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { ALIVE_STATUS, FETCH_STATUS, REFILL_STATUS, statusOf } from './statuses.js';
import { pipeScript, type Arg, type ScriptName } from './script-names.js';

export function fetchResult(reply: unknown): FetchResult {
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

/** `items` cut into runs of at most `maxItems` items and (but for a run's first) `maxBytes` bytes. */
export function chunksOf(items: Buffer[], maxItems: number, maxBytes: number): Buffer[][] {
  const out: Buffer[][] = [];
  let run: Buffer[] = [];
  let bytes = 0;
  for (const it of items) {
    if (run.length > 0 && (run.length >= maxItems || bytes + it.length > maxBytes)) {
      out.push(run);
      run = [];
      bytes = 0;
    }
    run.push(it);
    bytes += it.length;
  }
  if (run.length) out.push(run);
  return out;
}

export const sha1 = (s: Buffer | string) => createHash('sha1').update(s).digest('hex');

export function flat(obj: Record<string, string | number>): (string | number)[] {
  return Object.entries(obj).flat();
}

/**
 * The jobs' arguments of an ack (lua/ack-6.lua: a spec and the bytes or marker of each job;
 * `extra(i)` appends one more per job, as ack-limited's identities) and the tombstone for them.
 */
export function ackJobArgs(refs: AckRef[], extra?: (i: number) => string): { args: (string | Buffer)[]; tomb: string } {
  const args: (string | Buffer)[] = [];
  const named: (Buffer | string)[] = [];
  refs.forEach((r, i) => {
    if (typeof r === 'string' || Buffer.isBuffer(r)) {
      args.push('B0', r);
      named.push(r);
    } else if ('remove' in r) {
      args.push('R', r.remove);
      named.push(r.remove);
    } else if ('bytes' in r) {
      args.push(`B${r.hint}`, r.bytes);
      named.push(r.bytes);
    } else args.push(`H${r.hint}:${r.length}:${r.offset}:${r.sha1}`, r.marker);
    if (extra) args.push(extra(i));
  });
  return { args, tomb: tombstoneFor(named) };
}

/**
 * An ack's unique-lock tail (lua/ack-6.lua, ack-limited-6.lua): "U", the key prefix, then per job
 * that holds a lock "<n>:<jid>" (n: its number in the call, 1-based) and the lock's key. Nothing
 * when no job of the call carries a lock: then the ack sends what it sent before unique jobs.
 */
export function lockTail(prefix: string, locks: ({ key: string; jid: string } | undefined)[] | undefined): string[] {
  if (!locks?.some(Boolean)) return [];
  const out = ['U', prefix];
  locks.forEach((l, i) => {
    if (l) out.push(`${i + 1}:${l.jid}`, l.key);
  });
  return out;
}

/** The keys and the first ARGV of an ack (ack-6 and ack-limited-6 share them). */
export function ackHead(k: Keys, queue: string, node: string, refill: number, tomb: string): (string | number)[] {
  return [
    k.inprogress(queue, node),
    k.processed(),
    k.processed(queue),
    k.node(node),
    k.queue(queue),
    k.paused,
    Math.min(refill, SCRIPT_BOUNDS.fetchMaxJobs),
    queue,
    SCRIPT_BOUNDS.fetchMaxBytes,
    tomb,
  ];
}

/** An ack's reply: { removed, alive, refill status, m, m missing numbers, job... }. */
export function ackResult(script: string, res: unknown[]): AckResult {
  const m = Number(res[3]);
  return {
    removed: Number(res[0]),
    alive: statusOf(script, ALIVE_STATUS, res[1]),
    refill: statusOf(script, REFILL_STATUS, res[2]),
    missing: res.slice(4, 4 + m).map((x) => Number(x) - 1),
    jobs: res.slice(4 + m) as Buffer[],
  };
}

/**
 * The idle wait: `BLMOVE queue:<q> → the node's claim list` with a claim script (`script`, the
 * Buffer variant, given its arguments after the claim list) right behind it in one pipeline.
 * Returns what the wait took (null: it timed out) and the script's reply.
 */
export async function blockThenClaim(
  redis: Redis,
  k: Keys,
  queue: string,
  node: string,
  timeoutS: number,
  script: ScriptName,
  args: unknown[],
): Promise<{ taken: unknown; reply: unknown }> {
  const claim = k.nodeClaim(node, queue);
  const pipe = redis.pipeline().blmoveBuffer(k.queue(queue), claim, 'RIGHT', 'LEFT', timeoutS);
  const queued = pipeScript(pipe, script, [claim, ...(args as Arg[])]);
  const res = await pipe.exec();
  const [waitErr, taken] = res?.[0] ?? [new Error('pipeline aborted'), null];
  let [err, reply] = res?.[1] ?? [new Error('pipeline aborted'), null];
  // NOSCRIPT (a new or restarted server): the claim did not run; it runs now, after the wait.
  const again = err ? queued.retryOn(err, redis) : undefined;
  if (again) [err, reply] = [null, await again];
  if (err) throw err;
  if (waitErr) throw waitErr;
  return { taken, reply };
}
