// Job payloads: the tolerant reader (Sidekiq's shape and verk's: string-encoded args, integer
// seconds, nulls, missing jid) and the writers (Sidekiq-shaped JSON that verk ≥ 1.7.1 reads).
// A payload is never re-encoded: rewrites go through patchJson, which keeps untouched bytes.
import { newJid, payloadId } from './jid.js';
import { patchJson } from './raw-json.js';

/** A decoded job. `raw` is the exact string read from Redis (acks need it byte for byte). */
export interface Job {
  raw: string;
  data: Record<string, unknown>;
  class: string;
  args: unknown[];
  jid: string;
  queue: string;
  /** Failures so far in Sidekiq's numbering (undefined: never failed). */
  retryCount: number | undefined;
  /** The job's own retry setting: true/false/N, or verk's max_retry_count, or undefined. */
  retry: boolean | number | undefined;
  /** Seconds since the epoch (float) the job was put in its queue, if known. */
  enqueuedAt: number | undefined;
  /** Set by the reaper on a job recovered repeatedly from dead workers: run it alone. */
  recovered: number | undefined;
}

export type DecodeResult = { ok: true; job: Job } | { ok: false; error: string };

/** Reads a payload; `fallbackQueue` is used when the payload names none. */
export function decodeJob(raw: string, fallbackQueue = 'default'): DecodeResult {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    return { ok: false, error: `malformed JSON: ${(err as Error).message}` };
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return { ok: false, error: 'payload is not a JSON object' };
  const d = data as Record<string, unknown>;
  if (typeof d.class !== 'string' || d.class === '') return { ok: false, error: 'payload has no "class" string' };
  const args = readArgs(d.args);
  if (!args.ok) return { ok: false, error: args.error };
  return {
    ok: true,
    job: {
      raw,
      data: d,
      class: d.class,
      args: args.value,
      jid: typeof d.jid === 'string' && d.jid ? d.jid : typeof d.jid === 'number' ? String(d.jid) : payloadId(raw),
      queue: typeof d.queue === 'string' && d.queue ? d.queue : fallbackQueue,
      retryCount: readRetryCount(d),
      retry: readRetry(d),
      enqueuedAt: toSeconds(d.enqueued_at),
      recovered: typeof d.verk_recovered === 'number' ? d.verk_recovered : undefined,
    },
  };
}

function readArgs(v: unknown): { ok: true; value: unknown[] } | { ok: false; error: string } {
  if (v === undefined || v === null) return { ok: true, value: [] };
  if (Array.isArray(v)) return { ok: true, value: v };
  if (typeof v === 'string') {
    // verk ≥ 1.4 stores args as a JSON string inside the JSON.
    try {
      const inner = JSON.parse(v);
      if (Array.isArray(inner)) return { ok: true, value: inner };
      if (inner && typeof inner === 'object') return { ok: true, value: [] };
    } catch {
      /* fall through */
    }
    return { ok: false, error: '"args" is a string that is not a JSON array' };
  }
  if (typeof v === 'object') return { ok: true, value: [] }; // cjson's [] → {} (verk #149)
  return { ok: false, error: '"args" must be an array' };
}

/** Sidekiq's count; verk writes retry_count 0 on a job that never failed (no failed_at yet). */
function readRetryCount(d: Record<string, unknown>): number | undefined {
  if (typeof d.retry_count !== 'number') return undefined;
  if (d.retry_count === 0 && d.failed_at == null) return undefined;
  return d.retry_count;
}

function readRetry(d: Record<string, unknown>): boolean | number | undefined {
  if (d.retry === false) return false;
  if (typeof d.retry === 'number' && Number.isInteger(d.retry) && d.retry >= 0) return d.retry;
  // `retry: true` means "the default", so verk's explicit max_retry_count still applies.
  if (typeof d.max_retry_count === 'number' && Number.isInteger(d.max_retry_count) && d.max_retry_count >= 0) return d.max_retry_count;
  if (d.retry === true) return true;
  return undefined;
}

/** Epoch seconds from a float/integer seconds value (or milliseconds, recognised by size). */
export function toSeconds(v: unknown): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  return v > 1e11 ? v / 1000 : v;
}

/** Keys encodeNewJob writes itself; `extra` cannot override them (the returned jid must match). */
const RESERVED = new Set(['retry', 'queue', 'class', 'args', 'jid', 'created_at', 'enqueued_at']);

export interface NewJob {
  class: string;
  /** Arguments as values, or `argsJson`: the exact text of a JSON array (kept byte for byte). */
  args?: unknown[];
  argsJson?: string;
  queue?: string;
  retry?: boolean | number;
  jid?: string;
  /** More top-level keys, kept verbatim (e.g. tags). */
  extra?: Record<string, unknown>;
}

/**
 * Encodes a new job in Sidekiq's shape and key order. `enqueuedAt` is omitted for jobs that go
 * to `schedule` (Sidekiq sets it when the job is pushed to its queue).
 */
export function encodeNewJob(job: NewJob, nowSeconds: number, enqueued: boolean): { jid: string; queue: string; payload: string } {
  const jid = job.jid ?? newJid();
  const queue = job.queue ?? 'default';
  const argsText = job.argsJson ?? JSON.stringify(job.args ?? []);
  let parsedArgs: unknown;
  try {
    parsedArgs = JSON.parse(argsText);
  } catch {
    /* reported below */
  }
  if (!Array.isArray(parsedArgs)) throw new Error('args must be a JSON array');
  const head = JSON.stringify({ retry: job.retry ?? true, queue, class: job.class }).slice(0, -1);
  const clash = Object.keys(job.extra ?? {}).filter((k) => RESERVED.has(k));
  if (clash.length) throw new Error(`extra must not set ${clash.join(', ')}: use the job's own fields`);
  const tail = JSON.stringify({ jid, created_at: nowSeconds, ...(enqueued ? { enqueued_at: nowSeconds } : {}), ...job.extra }).slice(1);
  return { jid, queue, payload: `${head},"args":${argsText},${tail}` };
}

/** The payload as it goes back into its queue from `schedule`/`retry`: a fresh `enqueued_at`. */
export function markEnqueued(raw: string, nowSeconds: number): string {
  return patchJson(raw, { enqueued_at: nowSeconds });
}

export interface FailureInfo {
  errorClass: string;
  errorMessage: string;
  backtrace: string[];
  nowSeconds: number;
}

/** Sidekiq's failure fields (reference/sidekiq-6-format.md §3): retry_count 0 after the first failure. */
export function failedPayload(job: Job, f: FailureInfo): { payload: string; retryCount: number } {
  const first = job.retryCount === undefined;
  const retryCount = first ? 0 : job.retryCount! + 1;
  const hasFailedAt = typeof job.data.failed_at === 'number';
  const payload = patchJson(job.raw, {
    error_message: f.errorMessage.slice(0, 10_000),
    error_class: f.errorClass,
    ...(hasFailedAt ? { retried_at: f.nowSeconds } : { failed_at: f.nowSeconds }),
    retry_count: retryCount,
    error_backtrace: f.backtrace,
    ...(typeof job.data.jid === 'string' ? {} : { jid: job.jid }),
    // It failed without taking its process down: no longer a suspected poison pill.
    verk_recovered: undefined,
  });
  return { payload, retryCount };
}
