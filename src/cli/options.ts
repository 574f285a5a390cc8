// Options shared by commands, generated from the config declaration, and turning parsed options
// into config flags.
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { CONFIG_KEYS, type Config, type ConfigKey } from '../config/schema.js';
import { flagSpec, helpLine } from '../config/help.js';

/** The config keys every command that talks to Redis takes (the rest are `verk work`'s). */
const CONNECTION_KEYS: readonly ConfigKey[] = ['redisUrl', 'prefix'];

/** Adds one config key's flag (commander stores it under the key's own name). */
function addConfigOption(cmd: Command, key: ConfigKey): Command {
  return cmd.option(flagSpec(key), helpLine(key));
}

/** --config, --redis-url, --prefix: every command that talks to Redis has them. */
export function withConnectionOptions(cmd: Command): Command {
  cmd.option('-c, --config <file>', 'config file (default: search verk.config.*, .verkrc, package.json#verk; env VERK_CONFIG)');
  for (const key of CONNECTION_KEYS) addConfigOption(cmd, key);
  return cmd;
}

/** Flags for a few more config keys (e.g. `verk enqueue --handlers`). */
export function withConfigOptions(cmd: Command, keys: readonly ConfigKey[]): Command {
  for (const key of keys) addConfigOption(cmd, key);
  return cmd;
}

/** A flag for every other config key (`verk work`). */
export function withWorkerOptions(cmd: Command): Command {
  for (const key of CONFIG_KEYS) if (!CONNECTION_KEYS.includes(key)) addConfigOption(cmd, key);
  return cmd;
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
