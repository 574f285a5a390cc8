// The names of the scripts in lua/ that Scripts (src/redis/scripts.ts) wraps, which of them
// durability 'replicated' confirms, and how one runs on a connection (EVALSHA, EVAL on NOSCRIPT).
import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import { scriptSources } from './script-source.js';

/** The scripts Scripts wraps (src/redis/scripts.ts; the contract test checks it against lua/). */
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
  'enqueueUnique',
  'uniqueStart',
  'uniqueDrop',
  'uniqueSweep',
  'uniqueWhy',
  'fetchLimited',
  'claimLimited',
  'ackLimited',
  'handbackLimited',
  'limitAudit',
] as const;
export type ScriptName = (typeof WRAPPED_SCRIPTS)[number];

/**
 * With durability 'replicated', the writes a replica must confirm (WAIT after each, the same call
 * again after a reconnect: each is idempotent). The ack is confirmed by the Settler, which re-acks
 * by bytes; cronTick confirms itself when it wrote (src/redis/cron-calls.ts); fetches, heartbeats
 * and the reaper's schedule are not confirmed (losing one in a failover loses no job:
 * src/redis/replication.ts, docs/redis-ha.md).
 */
export const DURABLE_WRITES: ReadonlySet<ScriptName> = new Set([
  'register',
  'fail',
  'handback',
  'handbackLimited',
  'reap',
  'requeueOrphan',
  'requeue',
  'promote',
  'reclaim',
]);

export type Arg = string | number | Buffer;
export type Raw = (...args: Arg[]) => Promise<unknown>;

interface Loaded {
  sha: string;
  lua: string;
  numberOfKeys: number;
}
let byName: Map<string, Loaded> | undefined;
const loaded = (name: ScriptName): Loaded => {
  byName ??= new Map(scriptSources().map((s) => [s.name, { sha: createHash('sha1').update(s.lua).digest('hex'), lua: s.lua, numberOfKeys: s.numberOfKeys }]));
  const s = byName.get(name);
  if (!s) throw new Error(`no script lua/${name}-*.lua`);
  return s;
};

const noScript = (err: unknown) => err instanceof Error && err.message.startsWith('NOSCRIPT');
type Evaluator = (script: string, numKeys: number, ...args: Arg[]) => Promise<unknown>;

/** Scripts a connection has sent with their source once (its server caches them then). */
const sentOn = new WeakMap<Redis, Set<ScriptName>>();

/**
 * Runs a script of lua/: with its source (EVAL, which caches it on the server) the first time on
 * a connection, then by its SHA-1 (EVALSHA), and with its source again when the server does not
 * know it (NOSCRIPT: nothing ran; a restarted or new server). Plain commands, not ioredis's
 * defineCommand: ioredis copies every defined script onto each pipeline it builds, and
 * auto-pipelining builds one per flush, so a connection that defined the project's 29 scripts
 * paid for all of them on every job (docs/performance.md). `buffers`: replies as Buffers.
 */
export function runScript(redis: Redis, name: ScriptName, buffers: boolean, args: Arg[]): Promise<unknown> {
  const s = loaded(name);
  const r = redis as unknown as Record<string, Evaluator>;
  const evaluate = () => r[buffers ? 'evalBuffer' : 'eval'](s.lua, s.numberOfKeys, ...args);
  let sent = sentOn.get(redis);
  if (!sent) sentOn.set(redis, (sent = new Set()));
  if (!sent.has(name)) {
    sent.add(name);
    return evaluate();
  }
  return r[buffers ? 'evalshaBuffer' : 'evalsha'](s.sha, s.numberOfKeys, ...args).catch((err: unknown) => {
    if (!noScript(err)) throw err;
    return evaluate();
  });
}

/**
 * Queues the script on a pipeline by its SHA-1; `retry` runs it again (with its source) when the
 * pipeline's reply is NOSCRIPT, which tells nothing ran.
 */
export function pipeScript(pipe: ChainableCommander, name: ScriptName, args: Arg[]): { retryOn(err: unknown, redis: Redis): Promise<unknown> | undefined } {
  const s = loaded(name);
  (pipe as unknown as Record<string, (...a: unknown[]) => unknown>).evalshaBuffer(s.sha, s.numberOfKeys, ...args);
  return { retryOn: (err, redis) => (noScript(err) ? runScript(redis, name, true, args) : undefined) };
}

/** What a supervisor records of its nodes' lives (the reaps are recovery events). */
export const FLEET_EVENT_KINDS = ['joined', 'left', 'exited', 'fenced'] as const;
export type FleetEventKind = (typeof FLEET_EVENT_KINDS)[number];
