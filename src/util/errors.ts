// Error types that carry an exit code (docs/cli.md, exit codes: 0 ok, 1 runtime, 64 usage, 78 config).

export const EXIT = { ok: 0, runtime: 1, usage: 64, config: 78 } as const;

/** A configuration problem: names the key or file and, where it can, a fix. Exits 78. */
export class ConfigError extends Error {
  readonly exitCode = EXIT.config;
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A command-line usage problem. Exits 64. */
export class UsageError extends Error {
  readonly exitCode = EXIT.usage;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A job ran past its timeout. */
export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** Turns anything thrown into an Error with a class name, message and stack lines. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  let text: string;
  try {
    text = typeof thrown === 'string' ? thrown : JSON.stringify(thrown) ?? String(thrown);
  } catch {
    text = String(thrown);
  }
  const err = new Error(`non-Error thrown: ${text}`);
  err.name = 'NonErrorThrown';
  return err;
}
