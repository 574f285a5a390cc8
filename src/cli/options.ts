// Options shared by commands, and turning parsed options into config flags.
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { CONFIG_KEYS, type Config } from '../config/schema.js';

/** --config, --redis-url, --prefix: every command that talks to Redis has them. */
export function withConnectionOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file (default: search verk.config.*, .verkrc, package.json#verk)')
    .option('-r, --redis-url <url>', 'Redis URL, e.g. redis://:password@host:6379/0 or rediss://… (env REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix shared with the workers (default none)');
}

/** The parsed options that are config keys (everything else, like --json, is left out). */
export function configFlags(opts: Record<string, unknown>): Partial<Record<keyof Config, unknown>> {
  const out: Partial<Record<keyof Config, unknown>> = {};
  for (const key of CONFIG_KEYS) if (opts[key] !== undefined) out[key] = opts[key];
  return out;
}

export function loadForCommand(opts: Record<string, unknown>, requireHandlers = false): Promise<LoadedConfig> {
  return loadConfig({ flags: configFlags(opts), configPath: opts.config as string | undefined, requireHandlers });
}
