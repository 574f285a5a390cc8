// Runs one decoded job through its handler: builds ctx, enforces the timeout through the
// AbortSignal, and turns whatever the handler does (return, throw a non-Error, hang) into an outcome.
import type { Job } from '../job/codec.js';
import type { Handler, JobContext } from './handlers.js';
import type { Logger } from '../util/logger.js';
import { TimeoutError, toError } from '../util/errors.js';

export type Outcome = { ok: true } | { ok: false; error: Error };

export interface RunOptions {
  timeoutMs: number;
  /** Called if the handler is still running `killGraceMs` after its timeout aborted it. */
  onIgnoredAbort: () => void;
  killGraceMs: number;
  log: Logger;
}

export interface JobRun {
  controller: AbortController;
  /** Settles when the outcome is known: on return/throw, or at the timeout. */
  outcome: Promise<Outcome>;
  /** Settles when the handler's own promise settles (it may outlive a timeout). */
  finished: Promise<void>;
}

export function runJob(job: Job, handler: Handler, opts: RunOptions): JobRun {
  const controller = new AbortController();
  const ctx: JobContext = {
    jid: job.jid,
    queue: job.queue,
    class: job.class,
    retryCount: job.retryCount,
    signal: controller.signal,
    log: opts.log,
    raw: job.raw,
  };
  let handlerDone = false;
  const finished = (async () => {
    try {
      await handler.perform(job.args, ctx);
      return { ok: true } as Outcome;
    } catch (err) {
      return { ok: false, error: toError(err) } as Outcome;
    } finally {
      handlerDone = true;
    }
  })();
  if (!(opts.timeoutMs > 0)) return { controller, outcome: finished, finished: finished.then(() => undefined) };

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => {
      const error = new TimeoutError(`job exceeded its timeout of ${opts.timeoutMs}ms`);
      controller.abort(error);
      resolve({ ok: false, error });
      setTimeout(() => {
        if (!handlerDone) opts.onIgnoredAbort();
      }, opts.killGraceMs).unref();
    }, opts.timeoutMs);
  });
  const outcome = Promise.race([finished, timedOut]).finally(() => clearTimeout(timer));
  return { controller, outcome, finished: finished.then(() => undefined) };
}

/** Backtrace lines of an error (without its first "Name: message" line). */
export function backtraceOf(err: Error, max: number): string[] {
  const lines = (err.stack ?? '').split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
  return lines.slice(0, max);
}
