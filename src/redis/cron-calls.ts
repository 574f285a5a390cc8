// The periodic jobs' script call (lua/cron-tick-8.lua) as a function of a Scripts connection;
// Scripts (src/redis/scripts.ts) exposes it as cronTick. One call decides one tick, atomically.
// With durability 'replicated' a call that wrote (a fired tick is an enqueue) is confirmed by a
// replica like every enqueue, and sent again after a reconnect (idempotent: the watermark, and
// for a run its jid, make the second call a no-op where the first holds).
import { CRON } from '../config/defaults.js';
import { countRedisEvent } from './failover-stats.js';
import { epochOf, replicaHas } from './replication.js';
import type { Scripts } from './scripts.js';
import { WrongTypeError } from './statuses.js';

export type CronMode = 'init' | 'fire' | 'miss' | 'run';
export type CronOutcome = 'init' | 'fired' | 'skipped' | 'missed' | 'run' | 'dup' | 'stale' | 'future';

export interface CronTickCall {
  mode: CronMode;
  name: string;
  queue: string;
  overlap: 'allow' | 'skip-if-running' | 'replace';
  /** fire: the tick; miss: the newest missed tick (epoch ms); init/run: 0. */
  tickMs: number;
  /** fire/miss: the watermark the caller planned from (the call is refused as 'stale' if it moved). */
  expectedMs?: number;
  /** miss: how many ticks and the oldest of them. */
  missed?: { count: number; fromMs: number };
  /** The job text up to its jid (src/job/cron-job.ts) and the jid. */
  head: string;
  jid: string;
  /** Who calls, for the history. */
  by: string;
  /** Recovered forms of the last job that overlap looks for ("verk_recovered": 0..n). */
  recoveredForms: number;
}

export interface CronTickResult {
  outcome: CronOutcome;
  tickMs: number;
  /** Redis's clock when the script ran (epoch ms). */
  nowMs: number;
  jid?: string;
  reason?: string;
  count?: number;
  /** dup/stale/future: the entry's watermark then; init: the instant it was armed. */
  watermarkMs?: number;
  replaced?: boolean;
}

const OUTCOMES = new Set<CronOutcome>(['init', 'fired', 'skipped', 'missed', 'run', 'dup', 'stale', 'future']);
/** The outcomes that wrote (the others changed nothing: no WAIT for them). */
const WROTE = new Set<CronOutcome>(['init', 'fired', 'skipped', 'missed', 'run']);

export async function cronTick(s: Scripts, c: CronTickCall): Promise<CronTickResult> {
  const k = s.keys;
  const since = s.durable ? epochOf(s.redis) : 0;
  const send = () =>
    s.call(
      'cronTick',
      false,
      k.cronState(c.name),
      k.cronHistory(c.name),
      k.cronPaused,
      k.cronEntries,
      k.queue(c.queue),
      k.queues,
      k.nodes,
      k.reaping,
      k.prefix,
      c.mode,
      c.name,
      c.tickMs,
      c.missed?.count ?? 0,
      c.missed?.fromMs ?? 0,
      c.overlap,
      c.queue,
      c.head,
      c.jid,
      c.by,
      CRON.historyLength,
      CRON.overlapScanMax,
      CRON.overlapMaxNodes,
      Math.min(c.recoveredForms, CRON.overlapRecoveredForms),
      c.expectedMs ?? 0,
    );
  const reply = (await send()) as unknown[];
  const outcome = String(reply[0]);
  if (outcome === 'wrongtype') throw new WrongTypeError('cronTick', String(reply[1]));
  if (!OUTCOMES.has(outcome as CronOutcome)) throw new Error(`cronTick: unexpected reply ${JSON.stringify(reply)}`);
  const r: CronTickResult = { outcome: outcome as CronOutcome, tickMs: Number(reply[1]), nowMs: Number(reply[2]) };
  const detail = reply[3];
  if (outcome === 'fired' || outcome === 'run') r.jid = String(detail);
  if (outcome === 'fired') r.replaced = Number(reply[4]) > 0;
  if (outcome === 'skipped') r.reason = String(detail);
  if (outcome === 'missed') r.count = Number(detail);
  if (outcome === 'dup' || outcome === 'stale' || outcome === 'future' || outcome === 'init') r.watermarkMs = Number(detail);
  if (s.durable && WROTE.has(r.outcome)) await confirmTick(s, since, send);
  return r;
}

/**
 * One WAIT for a decided tick (not confirmWrite's 3 attempts with backoff: an every-second entry
 * would fall behind its schedule while no replica answers); after a reconnect the same call is
 * sent again first (a no-op where the first one holds). Unconfirmed: counted and reported.
 */
async function confirmTick(s: Scripts, since: number, send: () => Promise<unknown>): Promise<void> {
  const d = s.durable;
  if (!d) return;
  try {
    let at = since;
    if (epochOf(s.redis) !== at) {
      at = epochOf(s.redis);
      await send();
    }
    if (await replicaHas(s.redis, at, d.timeoutMs)) return;
  } catch {
    // The connection failed during the redo or the WAIT: reported below, the next round goes on.
  }
  countRedisEvent('unreplicated');
  d.onUnconfirmed?.('cronTick');
}
