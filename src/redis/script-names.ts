// The names of the scripts in lua/ that Scripts (src/redis/scripts.ts) wraps, which of them
// durability 'replicated' confirms, and their definition on a connection (ioredis defineCommand).
import type { Redis } from 'ioredis';
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

/** Defines every script of lua/ on the connection (once) and gives its commands by name. */
export function define(redis: Redis): Record<string, Raw> {
  const r = redis as unknown as Record<string, Raw>;
  for (const s of scriptSources()) {
    if (typeof r[s.name] !== 'function') redis.defineCommand(s.name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
  }
  return r;
}

/** What a supervisor records of its nodes' lives (the reaps are recovery events). */
export const FLEET_EVENT_KINDS = ['joined', 'left', 'exited', 'fenced'] as const;
export type FleetEventKind = (typeof FLEET_EVENT_KINDS)[number];
