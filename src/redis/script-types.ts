// The argument and result types of the typed script calls (src/redis/scripts.ts), kept apart so
// the wrappers stay one screen per script. Imported through scripts.ts.

/**
 * Limited queues only: `more` = the fetch stopped at its park bound with jobs left to sort;
 * `waitMs` = ms until the next rate-blocked key reopens (-1: none).
 */
export type FetchResult = ({ status: 'ok'; jobs: Buffer[] } | { status: 'paused' | 'fenced'; jobs: [] }) & { more?: boolean; waitMs?: number };

/**
 * How an ack names one job (lua/include/held-job.lua). `hint` is the position from the tail of the
 * in-progress list where the worker expects it (1 = the tail, 0 = unknown): the script reads that
 * element only. By bytes: the element must equal them (else the tail-most equal one is found in C).
 * By hash: it must have `length` bytes, `marker` at `offset` and this SHA-1; nothing is searched.
 * A plain Buffer or string is a job by bytes without a hint.
 */
export type AckRef =
  | Buffer
  | string
  | { remove: Buffer | string }
  | { bytes: Buffer | string; hint: number }
  | { hint: number; length: number; offset: number; marker: Buffer; sha1: string };

/**
 * An idle wait's outcome. `consistent` false: the claim list held another count of jobs than
 * the wait took (a claim left over from a wait whose reply was lost); the left-over jobs are
 * in the in-progress list (or back in the queue) and the caller must reconcile.
 */
export type ClaimResult = { status: 'ok' | 'paused' | 'fenced'; jobs: Buffer[]; consistent: boolean; more?: boolean };
export interface ReapScanResult {
  /** The call was full: due nodes may remain (call again). */
  more: boolean;
  checked: number;
  dead: string[];
}
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

/** A job's unique lock as the scripts that move the job release it: the key and the job's jid. */
export interface UniqueRef {
  key: string;
  jid: string;
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
  /** The job's unique lock (not a ttl lock): dead/drop release it, retry keeps it. */
  unique?: UniqueRef;
}

/** Job counts for Sidekiq's daily counters: executions (successes + failures) and failures. */
export interface DailyTotals {
  processed: number;
  failed: number;
}

export interface DailyStatsFlush {
  identity: string;
  /** UTC date, YYYY-MM-DD: the day the counts are added to (as Sidekiq does, the day of the flush). */
  date: string;
  /** Cumulative totals of the supervisor since it started. */
  totals: DailyTotals;
  /** What the caller knows was added already (used only if the record in Redis has expired). */
  added: DailyTotals;
  statsTtlS: number;
  recordTtlS: number;
}

export interface PromoteEntry {
  member: Buffer;
  payload: Buffer | string;
  queue: string;
}

/** What an ack names besides the jobs: a limited queue's job identities (its slot records), and the unique locks to release. */
export interface AckTags {
  ids?: string[];
  locks?: (UniqueRef | undefined)[];
}
