// Error types that carry an exit code (docs/cli.md, exit codes: 0 ok, 1 runtime, 64 usage, 78
// config). Every error verk raises on purpose extends VerkError; the CLI maps any error to its
// exit code through `exitCodeOf` (no instanceof chains).

export const EXIT = { ok: 0, runtime: 1, usage: 64, config: 78 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The base of verk's own errors: a name, a message meant for an operator, and an exit code. */
export class VerkError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = EXIT.runtime, name = 'VerkError') {
    super(message);
    this.name = name;
    this.exitCode = exitCode;
  }
}

/** A configuration problem: names the key or file and, where it can, a fix. Exits 78. */
export class ConfigError extends VerkError {
  constructor(message: string) {
    super(message, EXIT.config, 'ConfigError');
  }
}

/** A command-line usage problem. Exits 64. */
export class UsageError extends VerkError {
  constructor(message: string) {
    super(message, EXIT.usage, 'UsageError');
  }
}

/** A job ran past its timeout (its name is the `error_class` written into Redis). */
export class TimeoutError extends VerkError {
  constructor(message: string) {
    super(message, EXIT.runtime, 'TimeoutError');
  }
}

/** The exit code for anything thrown: a VerkError's own, else 1. */
export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof VerkError ? err.exitCode : EXIT.runtime;
}

/** Turns anything thrown into an Error with a class name, message and stack lines. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  let text: string;
  try {
    text = typeof thrown === 'string' ? thrown : (JSON.stringify(thrown) ?? String(thrown));
  } catch {
    text = String(thrown);
  }
  return new VerkError(`non-Error thrown: ${text}`, EXIT.runtime, 'NonErrorThrown');
}
