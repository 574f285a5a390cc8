// Job payloads: the tolerant reader (Sidekiq's shape and verk's: string-encoded args, integer
// seconds, nulls, missing jid) and the writers (Sidekiq-shaped JSON that verk ≥ 1.7.1 reads).
// A payload is never re-encoded: rewrites go through patchJson, which keeps untouched bytes.
// Payloads are bytes: one that is not valid UTF-8 is malformed (it goes to dead as its exact bytes).
import { isUtf8 } from 'node:buffer';
import { newJid } from './jid.js';
import { payloadIdentity } from './identity.js';
import { patchJson } from './raw-json.js';
import { uniqueMember, uniqueOf, type UniqueLock } from './unique.js';

/** error_class of a job whose `args` is not an array (it goes to dead without running). */
export const INVALID_ARGS_ERROR = 'Verk::InvalidArgs';

/**
 * A decoded job. `raw` is the payload's text: the exact bytes read from Redis decoded as UTF-8
 * (valid UTF-8 only, so `Buffer.from(raw)` gives those bytes back). Acks use the bytes themselves.
 */
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
  /** Set by the reaper on every job it requeues (the count of its recoveries). */
  recovered: number | undefined;
  /** Why `args` is unusable (not an array): such a job is not run but goes to dead. */
  argsError: string | undefined;
  /** The unique lock the payload carries ("verk_unique", docs/unique-jobs.md), if any. */
  unique?: UniqueLock;
}

export type DecodeResult = { ok: true; job: Job } | { ok: false; error: string };

/**
 * Reads a payload (the bytes from Redis, or its text); `fallbackQueue` is used when the payload
 * names none. Bytes that are not valid UTF-8 are malformed.
 */
export function decodeJob(bytes: Buffer | string, fallbackQueue = 'default'): DecodeResult {
  let raw: string;
  if (typeof bytes === 'string') raw = bytes;
  else if (isUtf8(bytes)) raw = bytes.toString('utf8');
  else return { ok: false, error: 'payload is not valid UTF-8' };
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
  const job: Job = {
    raw,
    data: d,
    class: d.class,
    args: args.ok ? args.value : [],
    argsError: args.ok ? undefined : args.error,
    jid: typeof d.jid === 'string' && d.jid ? d.jid : typeof d.jid === 'number' ? String(d.jid) : payloadIdentity(bytes),
    queue: typeof d.queue === 'string' && d.queue ? d.queue : fallbackQueue,
    retryCount: readRetryCount(d),
    retry: readRetry(d),
    enqueuedAt: toSeconds(d.enqueued_at),
    recovered: typeof d.verk_recovered === 'number' ? d.verk_recovered : undefined,
  };
  // Only a payload that carries a lock gets the field (the hot path builds no extra object).
  if (d.verk_unique !== undefined) job.unique = uniqueOf(d);
  return { ok: true, job };
}

/**
 * The args rule (docs/decisions.md): an array as is; missing → []; `{}` → [] (cjson's encoding of
 * an empty array, verk #149); verk's string-encoded args holding a JSON array → that array.
 * Anything else is an error: the job must not run with its data lost.
 */
function readArgs(v: unknown): { ok: true; value: unknown[] } | { ok: false; error: string } {
  if (Array.isArray(v)) return { ok: true, value: v };
  if (v === undefined) return { ok: true, value: [] };
  if (typeof v === 'string') {
    // verk ≥ 1.4 stores args as a JSON string inside the JSON.
    let inner: unknown;
    try {
      inner = JSON.parse(v);
    } catch {
      return { ok: false, error: `"args" is a string that is not a JSON array: ${preview(JSON.stringify(v))}` };
    }
    if (Array.isArray(inner)) return { ok: true, value: inner };
    return { ok: false, error: `"args" is a string holding ${describe(inner)}, not a JSON array: ${preview(v)}` };
  }
  if (v && typeof v === 'object' && Object.keys(v).length === 0) return { ok: true, value: [] };
  return { ok: false, error: `"args" must be an array, found ${describe(v)}: ${preview(JSON.stringify(v))}` };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

const preview = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

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
const RESERVED = new Set(['retry', 'max_retry_count', 'queue', 'class', 'args', 'jid', 'created_at', 'enqueued_at', 'verk_unique']);

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
  /** The unique lock the job carries (written as "verk_unique"); see src/job/unique.ts. */
  lock?: UniqueLock;
}

/**
 * Encodes a new job in Sidekiq's shape and key order. `enqueuedAt` is omitted for jobs that go
 * to `schedule` (Sidekiq sets it when the job is pushed to its queue). A number of retries is
 * written twice, `retry` for Sidekiq and verk-ts and `max_retry_count` right after it for Elixir
 * verk, which reads only that (both mean N retries, N + 1 runs at most).
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
  const retry = job.retry ?? true;
  const head = JSON.stringify({ retry, ...(typeof retry === 'number' ? { max_retry_count: retry } : {}), queue, class: job.class }).slice(0, -1);
  const clash = Object.keys(job.extra ?? {}).filter((k) => RESERVED.has(k));
  if (clash.length) throw new Error(`extra must not set ${clash.join(', ')}: use the job's own fields`);
  const tail = JSON.stringify({
    jid,
    created_at: nowSeconds,
    ...(enqueued ? { enqueued_at: nowSeconds } : {}),
    ...job.extra,
    ...(job.lock ? { verk_unique: uniqueMember(job.lock) } : {}),
  }).slice(1);
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

/** Sidekiq's failure fields (Sidekiq 6 writes them so: docs/decisions.md): retry_count 0 after the first failure. */
/** Failed attempts kept in a job's `verk_attempts` (the newest last), and how much of each message. */
export const ATTEMPTS_KEPT = 10;
const ATTEMPT_MESSAGE_CHARS = 200;

export interface Attempt {
  /** When it failed, epoch seconds. */
  at: number;
  error_class: string;
  error_message: string;
}

/** The attempts a payload records (`verk_attempts`); entries that are not attempts are skipped. */
export function attemptsOf(data: Record<string, unknown>): Attempt[] {
  const a = data.verk_attempts;
  if (!Array.isArray(a)) return [];
  return a.filter(
    (x): x is Attempt => !!x && typeof x === 'object' && typeof x.at === 'number' && typeof x.error_class === 'string' && typeof x.error_message === 'string',
  );
}

export function failedPayload(job: Job, f: FailureInfo): { payload: string; retryCount: number } {
  const first = job.retryCount === undefined;
  const retryCount = first ? 0 : job.retryCount! + 1;
  const hasFailedAt = typeof job.data.failed_at === 'number';
  // Sidekiq keeps the last error only; the history of the last ATTEMPTS_KEPT failures rides along
  // (Sidekiq and Elixir verk ignore the key), for `verk show` and the web job page.
  const attempt: Attempt = { at: f.nowSeconds, error_class: f.errorClass, error_message: f.errorMessage.slice(0, ATTEMPT_MESSAGE_CHARS) };
  const payload = patchJson(job.raw, {
    verk_attempts: [...attemptsOf(job.data), attempt].slice(-ATTEMPTS_KEPT),
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
