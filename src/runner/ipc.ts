// Messages between the supervisor and its worker processes (Node IPC channel, JSON).
import type { Config } from '../config/schema.js';
import type { RedisEvent } from '../redis/failover-stats.js';

export interface RunningJobInfo {
  jid: string;
  class: string;
  queue: string;
  started_at: number;
  /** The args as JSON text of an array, at most ~4 KB (src/job/args-preview.ts); absent: not reported. */
  args?: string;
}

/** Per-queue counts; retried/dead/dropped are absent until they first happen. */
export interface QueueCounts {
  processed: number;
  failed: number;
  retried?: number;
  dead?: number;
  dropped?: number;
}

export interface ChildCounters {
  processed: number;
  failed: number;
  retried: number;
  dead: number;
  dropped: number;
  rejected: number;
  perQueue: Record<string, QueueCounts>;
  /** The process's failover replies, reconnects and unconfirmed writes (src/redis/failover-stats.ts). */
  redis?: Partial<Record<RedisEvent, number>>;
}

export type ToChild =
  /** leaseUntil / until: the node's fence point on the machine's monotonic clock (src/core/lease.ts). */
  | { type: 'start'; nodeId: string; config: Config; leaseUntil?: number }
  | { type: 'lease'; until: number }
  | { type: 'ping' }
  | { type: 'quiet' }
  | { type: 'shutdown'; deadlineMs: number }
  | { type: 'fence'; reason: string };

export type FromChild =
  | { type: 'ready'; handlers: number; handlerErrors: number }
  | { type: 'pong'; busy: number; running: RunningJobInfo[]; counters: ChildCounters; rss: number; state: string; lagMs?: number }
  | { type: 'exiting'; reason: string; code: number; counters?: ChildCounters };
