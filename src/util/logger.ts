// Structured logger: JSON lines (one object per line) or readable lines for a TTY.
// Every message and field passes through redaction so a Redis password never reaches a log.
// A write error on the log stream (EPIPE: the reader of a pipe went away) marks the stream
// broken and the logger goes quiet: no retry, no throw, no 'error' event left unhandled (which
// would re-enter through uncaughtException → log → EPIPE and spin a CPU).
import { redactText } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFormat = 'json' | 'pretty';
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go (default: stderr). */
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = RANK[opts.level ?? 'info'];
  const format = opts.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  const write = opts.write ?? streamWriter(process.stderr);

  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const all = fields ? { ...base, ...fields } : base;
    write(redactText(format === 'json' ? jsonLine(level, msg, all) : prettyLine(level, msg, all)));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}

function jsonLine(level: LogLevel, msg: string, fields: LogFields): string {
  return JSON.stringify({ ts: new Date().toISOString(), level, msg, ...fields }, errorReplacer);
}

function prettyLine(level: LogLevel, msg: string, fields: LogFields): string {
  const extras = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, errorReplacer)}`)
    .join(' ');
  return `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${extras ? ' ' + extras : ''}`;
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

interface GuardedStream {
  write(chunk: string): boolean;
  on(event: 'error', listener: (err: Error) => void): unknown;
  destroyed?: boolean;
  writable?: boolean;
}

const broken = new WeakSet<object>();
const watched = new WeakSet<object>();

/**
 * Attaches (once) an 'error' listener that marks the stream broken. Call it for any stream a
 * process writes to without caring about delivery (logs); `isBroken` then says to stop.
 */
export function watchStream(stream: GuardedStream, onBroken?: (err: Error) => void): void {
  if (watched.has(stream)) return;
  watched.add(stream);
  stream.on('error', (err) => {
    broken.add(stream);
    onBroken?.(err);
  });
}

/** True once a write to the stream has failed (or it was destroyed or ended). */
export function isBroken(stream: GuardedStream): boolean {
  return broken.has(stream) || stream.destroyed === true || stream.writable === false;
}

/** A line writer for a stream that stops for good at the first write error. */
export function streamWriter(stream: GuardedStream): (line: string) => void {
  watchStream(stream);
  return (line) => {
    if (isBroken(stream)) return;
    try {
      stream.write(`${line}\n`);
    } catch {
      broken.add(stream); // a synchronous throw (e.g. ERR_STREAM_DESTROYED): same as an 'error' event
    }
  };
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = createLogger({ level: 'silent' });
