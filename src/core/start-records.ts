// Start records of marked jobs (docs/reliability.md "Start records"): a job the reaper requeued
// carries `verk_recovered`; before its handler starts, its identity goes into the node's
// `verk:node:<id>:started` set, so a later reap of this node counts a recovery only for jobs
// that really started. Unmarked jobs never come here (no extra Redis command on the hot path).
import type { Redis } from 'ioredis';
import { payloadIdentity } from '../job/identity.js';
import type { Logger } from '../util/logger.js';
import { sleep } from '../util/sleep.js';

/** Attempts to write one start record before the job is handed back unstarted. */
const RECORD_ATTEMPTS = 4;
const RECORD_BACKOFF_MS = 100;

export interface Recordable {
  raw: Buffer;
  identity?: string;
  /** Settled or handed back meanwhile (e.g. the node was fenced): do not start it. */
  closed: boolean;
}

export class StartRecords {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly log: Logger,
  ) {}

  /**
   * Writes the record (SADD; every call is bounded by the connection's command timeout) and
   * resolves true once it is stored; false if the job was closed meanwhile or every attempt
   * failed (the caller hands it back unstarted).
   */
  async record(e: Recordable): Promise<boolean> {
    const id = (e.identity ??= payloadIdentity(e.raw));
    for (let attempt = 0; attempt < RECORD_ATTEMPTS; attempt++) {
      if (e.closed) return false;
      if (attempt > 0) await sleep(RECORD_BACKOFF_MS * 2 ** (attempt - 1));
      if (e.closed) return false;
      try {
        await this.redis.sadd(this.key, id);
        return !e.closed;
      } catch (err) {
        this.log.warn('could not write the start record of a recovered job; retrying', { jid: id, attempt: attempt + 1, error: (err as Error).message });
      }
    }
    return false;
  }

  /** Removes the record once the job is settled or handed back (best effort: it dies with the node). */
  forget(e: Recordable): void {
    if (e.identity === undefined) return;
    this.redis.srem(this.key, e.identity).catch(() => undefined);
  }
}
