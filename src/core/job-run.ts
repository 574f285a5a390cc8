// Runs one decoded job through its handler: builds ctx, enforces the timeout through the
// AbortSignal, and turns whatever the handler does (return, throw a non-Error, hang) into an
// outcome. Hot path: the AbortController and the job's logger are only built if the handler
// (or a timeout, or a hand-back) needs them.
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
  /** Builds the job's logger on first use of ctx.log. */
  log: () => Logger;
  /** The worker node running the job (ctx.node); '' when there is none (unit tests). */
  node?: string;
}

export interface JobRun {
  /** Aborts ctx.signal (now, or as soon as the handler first reads it). */
  abort(reason: Error): void;
  /** Settles when the outcome is known: on return/throw, or at the timeout. */
  outcome: Promise<Outcome>;
  /** Settles when the handler's own promise settles (it may outlive a timeout). */
  finished: Promise<void>;
}

const OK: Outcome = { ok: true };

/** An AbortSignal made on demand: most handlers never look at it. */
class LazyAbort {
  private controller: AbortController | undefined;
  private reason: Error | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    this.reason ??= reason;
    this.controller?.abort(reason);
  }
}

function makeContext(job: Job, abort: LazyAbort, log: () => Logger, node: string): JobContext {
  let logger: Logger | undefined;
  return {
    jid: job.jid,
    queue: job.queue,
    class: job.class,
    retryCount: job.retryCount,
    node,
    get signal() {
      return abort.signal;
    },
    get log() {
      return (logger ??= log());
    },
    raw: job.raw,
  };
}

export function runJob(job: Job, handler: Handler, opts: RunOptions): JobRun {
  const abort = new LazyAbort();
  const ctx = makeContext(job, abort, opts.log, opts.node ?? '');
  let handlerDone = false;
  const finished = (async (): Promise<Outcome> => {
    try {
      await handler.perform(job.args, ctx);
      return OK;
    } catch (err) {
      return { ok: false, error: toError(err) };
    } finally {
      handlerDone = true;
    }
  })();
  const done = finished.then(() => undefined);
  const stop = (reason: Error) => abort.abort(reason);
  if (!(opts.timeoutMs > 0)) return { abort: stop, outcome: finished, finished: done };

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => {
      const error = new TimeoutError(`job exceeded its timeout of ${opts.timeoutMs}ms`);
      abort.abort(error);
      resolve({ ok: false, error });
      setTimeout(() => {
        if (!handlerDone) opts.onIgnoredAbort();
      }, opts.killGraceMs).unref();
    }, opts.timeoutMs);
  });
  const outcome = Promise.race([finished, timedOut]).finally(() => clearTimeout(timer));
  return { abort: stop, outcome, finished: done };
}

/** Backtrace lines of an error (without its first "Name: message" line). */
export function backtraceOf(err: Error, max: number): string[] {
  const lines = (err.stack ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.slice(0, max);
}
