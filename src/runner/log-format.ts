// Picks the log format: JSON lines unless stderr is a TTY or the config says otherwise.
import type { Config } from '../config/schema.js';
import type { LogFormat } from '../util/logger.js';

export function logFormatOf(config: Pick<Config, 'logFormat'>): LogFormat {
  if (config.logFormat === 'json' || config.logFormat === 'pretty') return config.logFormat;
  return process.stderr.isTTY ? 'pretty' : 'json';
}
