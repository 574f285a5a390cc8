// The catalogue of every `error_class` verk writes into a job's payload in Redis (retry/dead
// entries, Sidekiq's field) or shows for an entry in admin rows, with what each one means.
// Lua scripts and src/util/errors.ts (below this layer) spell theirs out as literals;
// test/unit/error-classes.test.ts checks that every literal in lua/ and src/ is listed here.

export const ERROR_CLASS = {
  /** No loaded handler module provides the job's class. */
  UnknownJobClass: 'UnknownJobClass',
  /** The handler module for the job's class exists but failed to load. */
  HandlerLoadError: 'HandlerLoadError',
  /** The job ran past its timeout (its AbortSignal fired). */
  TimeoutError: 'TimeoutError',
  /** The handler threw (or rejected with) something that is not an Error. */
  NonErrorThrown: 'NonErrorThrown',
  /** The job's `args` is not a JSON array (and not cjson's empty `{}`). */
  InvalidArgs: 'Verk::InvalidArgs',
  /** Recovered from dying nodes more than maxRecoveries times: buried by the reap script. */
  PoisonPill: 'Verk::PoisonPill',
  /** A schedule/retry entry names no usable queue: moved to dead by the scheduler. */
  UnroutableJob: 'Verk::UnroutableJob',
  /** Not valid job JSON: buried as its raw bytes (shown by admin rows, not written in it). */
  MalformedPayload: 'MalformedPayload',
} as const;

export type ErrorClass = (typeof ERROR_CLASS)[keyof typeof ERROR_CLASS];

/** One line per error class: what it means and what to do (docs/decisions.md repeats it). */
export const ERROR_CLASS_MEANING: Record<ErrorClass, string> = {
  UnknownJobClass: 'no handler module in the handlers directory provides this class; retried like any failure (deploy the handler or delete the job)',
  HandlerLoadError: 'the handler file for this class failed to load (syntax error, missing import, no perform export); the message names the file and the load error',
  TimeoutError: 'the job ran longer than its timeout (handler option, queue or --job-timeout); its ctx.signal was aborted',
  NonErrorThrown: 'the handler threw or rejected with a value that is not an Error; the message holds the value',
  'Verk::InvalidArgs': 'the payload\'s "args" is not a JSON array, so the handler was not run; fix the producer',
  'Verk::PoisonPill': 'the job was recovered from nodes that died while running it more than maxRecoveries times; moved to dead instead of crashing more nodes',
  'Verk::UnroutableJob': 'a schedule or retry entry names no usable queue; moved to dead instead of being promoted',
  MalformedPayload: 'the entry is not valid job JSON; it was moved to dead as its raw bytes (the reason is kept in verk:malformed)',
};

export function isKnownErrorClass(name: string): name is ErrorClass {
  return Object.hasOwn(ERROR_CLASS_MEANING, name);
}
