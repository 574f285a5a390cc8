// Resolves the configuration: defaults < config file (cosmiconfig) < environment < flags.
// The result is validated once and frozen; worker processes receive it and never search again.
import fs from 'node:fs';
import path from 'node:path';
import { cosmiconfig, type Loader } from 'cosmiconfig';
import { importModule } from '../util/import-module.js';
import { CONFIG_DECLARATION, DEFAULTS, cpuCount } from './defaults.js';
import { envOf, flagOf } from './declare.js';
import { crossCheck } from './cross-check.js';
import { CONFIG_KEYS, isConfigKey, suggestKey, validateValue, type Config } from './schema.js';
import { ConfigError } from '../util/errors.js';
import { describeLoadError } from '../util/syntax-error.js';

export interface LoadOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Values from command-line flags, already named by config key. */
  flags?: Partial<Record<keyof Config, unknown>>;
  /** `--config FILE`: load this file instead of searching. */
  configPath?: string;
  /** `verk work` needs the handlers directory; admin commands do not. */
  requireHandlers?: boolean;
}

export interface LoadedConfig {
  config: Readonly<Config>;
  /** The config file used, if any. */
  file?: string;
}

const SEARCH_PLACES = [
  'package.json',
  '.verkrc',
  '.verkrc.json',
  '.verkrc.yaml',
  '.verkrc.yml',
  '.verkrc.js',
  '.verkrc.mjs',
  '.verkrc.cjs',
  '.verkrc.ts',
  'verk.config.ts',
  'verk.config.mts',
  'verk.config.mjs',
  'verk.config.js',
  'verk.config.cjs',
  'verk.config.json',
  'verk.config.yaml',
  'verk.config.yml',
];

/** Env names that are not config keys but are ours. */
const OTHER_VERK_ENV = new Set(['VERK_CONFIG']);

const loadModule: Loader = async (filepath) => {
  const mod = await importModule(filepath);
  return mod.default ?? mod;
};

export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const merged: Record<string, unknown> = { ...DEFAULTS };
  let handlersBase = cwd;

  const file = await readConfigFile(cwd, opts.configPath ?? env.VERK_CONFIG);
  if (file) {
    const where = path.relative(cwd, file.path) || file.path;
    Object.assign(merged, validateLayer(file.values, where));
    if (file.values.handlers !== undefined) handlersBase = path.dirname(file.path);
  }
  const fromEnv = envLayer(env);
  Object.assign(merged, fromEnv);
  if (fromEnv.handlers !== undefined) handlersBase = cwd;
  const flags = Object.fromEntries(Object.entries(opts.flags ?? {}).filter(([, v]) => v !== undefined));
  Object.assign(merged, validateLayer(flags, 'command line', flagOf));
  if (flags.handlers !== undefined) handlersBase = cwd;

  const config = merged as unknown as Config;
  if (typeof merged.queues === 'string') config.queues = validateValue('queues', merged.queues, 'defaults');
  if (!Array.isArray(merged.cron)) config.cron = validateValue('cron', merged.cron, 'defaults');
  if (!Array.isArray(merged.limits)) config.limits = validateValue('limits', merged.limits, 'defaults');
  if (config.processes === 0) config.processes = cpuCount();
  config.handlers = path.resolve(handlersBase, config.handlers);
  crossCheck(config);
  if (opts.requireHandlers) checkHandlersDir(config.handlers);
  for (const q of config.queues) Object.freeze(q);
  Object.freeze(config.queues);
  for (const e of config.cron) Object.freeze(e);
  Object.freeze(config.cron);
  for (const e of config.limits) Object.freeze(e);
  Object.freeze(config.limits);
  return { config: Object.freeze(config), file: file?.path };
}

async function readConfigFile(cwd: string, explicit?: string): Promise<{ path: string; values: Record<string, unknown> } | undefined> {
  const explorer = cosmiconfig('verk', {
    searchPlaces: SEARCH_PLACES,
    // JavaScript too goes through import() alone, so a syntax error surfaces as itself (cosmiconfig's
    // own loader retries with require() and reports that failure instead).
    loaders: { '.js': loadModule, '.mjs': loadModule, '.cjs': loadModule, '.ts': loadModule, '.mts': loadModule, '.cts': loadModule },
  });
  let result: Awaited<ReturnType<typeof explorer.search>>;
  try {
    if (explicit) {
      const full = path.resolve(cwd, explicit);
      if (!fs.existsSync(full)) throw new ConfigError(`config file ${explicit} does not exist: check the path given to --config / VERK_CONFIG`);
      result = await explorer.load(full);
    } else {
      result = await explorer.search(cwd);
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const file = (err as { filepath?: string }).filepath ?? (explicit ? path.resolve(cwd, explicit) : cwd);
    throw new ConfigError(`config file could not be read: ${await describeLoadError(err, file)}`);
  }
  if (!result || result.isEmpty) return result ? { path: result.filepath, values: {} } : undefined;
  const values = result.config;
  if (!values || typeof values !== 'object' || Array.isArray(values)) {
    throw new ConfigError(`${result.filepath}: must export an object of settings (e.g. { queues: "default:10" })`);
  }
  return { path: result.filepath, values };
}

function validateLayer(values: Record<string, unknown>, where: string, label: (k: string) => string = (k) => k): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (!isConfigKey(key)) {
      const hint = suggestKey(key);
      throw new ConfigError(`${where}: unknown key \`${key}\`${hint ? ` — did you mean \`${hint}\`?` : ''}`);
    }
    out[key] = validateValue(key, value, where === 'command line' ? label(key) : where);
  }
  return out;
}

/** VERK_<KEY> for every key; a key's aliases (REDIS_URL) are read first, so VERK_<KEY> wins. */
function envLayer(env: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    for (const alias of CONFIG_DECLARATION[key].envAliases ?? []) {
      if (env[alias]) out[key] = validateValue(key, env[alias], alias);
    }
  }
  const byEnv = new Map(CONFIG_KEYS.map((k) => [envOf(k), k]));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('VERK_') || value === undefined || OTHER_VERK_ENV.has(name)) continue;
    const key = byEnv.get(name);
    if (!key) {
      const hint = suggestKey(camel(name.slice(5)));
      throw new ConfigError(`environment: unknown variable ${name}${hint ? ` — did you mean ${envOf(hint)}?` : ''}`);
    }
    out[key] = validateValue(key, value, name);
  }
  return out;
}

function checkHandlersDir(dir: string): void {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new ConfigError(`handlers directory ${dir} does not exist: create it, or set \`handlers\` (--handlers DIR)`);
  }
}

const camel = (s: string) => s.toLowerCase().replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
