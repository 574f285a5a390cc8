// A Logger for tests that keeps every line it is given (level, message, fields) in `lines`.
import type { LogFields, Logger } from '../../src/util/logger.js';

export type RecordingLog = Logger & { lines: { level: string; msg: string; fields?: LogFields }[] };

export function recordingLog(): RecordingLog {
  const lines: RecordingLog['lines'] = [];
  const log = {
    lines,
    debug: (msg: string, fields?: LogFields) => lines.push({ level: 'debug', msg, fields }),
    info: (msg: string, fields?: LogFields) => lines.push({ level: 'info', msg, fields }),
    warn: (msg: string, fields?: LogFields) => lines.push({ level: 'warn', msg, fields }),
    error: (msg: string, fields?: LogFields) => lines.push({ level: 'error', msg, fields }),
    child: () => log,
  };
  return log;
}
