// The config declaration (src/config/defaults.ts) drives everything derived from it: every key
// has a `verk work` flag that reaches the config, its env name, a --help line and a row in the
// docs tables; handler options are bounded like config timers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_DECLARATION, DEFAULTS } from '../../src/config/defaults.js';
import { envOf, flagOf } from '../../src/config/declare.js';
import { configTable, flagSpec, helpLine } from '../../src/config/help.js';
import { loadConfig } from '../../src/config/load.js';
import { CONFIG_KEYS, type ConfigKey } from '../../src/config/schema.js';
import { configFlags, withConnectionOptions, withWorkerOptions } from '../../src/cli/options.js';
import { loadHandlers } from '../../src/core/handlers.js';
import type { Logger } from '../../src/util/logger.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'verk-decl-')));
  dirs.push(d);
  return d;
};

/** A valid value other than the default for each key, as typed on the command line, and what config holds then. */
function sample(key: ConfigKey, cwd: string): { argv: string[]; expected: unknown } {
  const d = CONFIG_DECLARATION[key];
  const flag = flagOf(key);
  switch (d.kind) {
    case 'duration': {
      const v = (d.default as number) + 1000;
      return { argv: [flag, `${v}ms`], expected: v };
    }
    case 'int':
      return { argv: [flag, String((d.default as number) + 1)], expected: (d.default as number) + 1 };
    case 'bool':
      return { argv: [flag, '--node-id', 'pod-7', '--processes', '1'], expected: true };
    case 'enum': {
      const v = (d as { values: readonly string[] }).values.find((x) => x !== d.default)!;
      return { argv: [flag, v], expected: v };
    }
    case 'queues':
      return {
        argv: [flag, 'a:2,b:3'],
        expected: [
          { name: 'a', concurrency: 2, timeout: 0 },
          { name: 'b', concurrency: 3, timeout: 0 },
        ],
      };
    case 'cron':
      return {
        argv: [flag, '{"nightly":{"class":"Reports.Nightly","schedule":"0 3 * * *","tz":"Europe/Berlin"}}'],
        expected: [
          {
            name: 'nightly',
            class: 'Reports.Nightly',
            args: [],
            queue: 'default',
            schedule: '0 3 * * *',
            tz: 'Europe/Berlin',
            catchUp: 'latest',
            catchUpMax: 10,
            grace: 60_000,
            overlap: 'allow',
            retry: true,
          },
        ],
      };
    case 'limits':
      return {
        argv: [flag, '{"api.partner":{"key":"args[0].account","concurrency":3,"rate":"100/min"}}'],
        expected: [{ queue: 'api.partner', key: 'args[0].account', path: ['args', 0, 'account'], concurrency: 3, rate: 100, rateWindow: 60_000 }],
      };
    case 'string':
      if (key === 'redisUrl') return { argv: [flag, 'rediss://example.test:6380/2'], expected: 'rediss://example.test:6380/2' };
      if (key === 'webAuth' || key === 'webReadAuth') return { argv: [flag, 'token:x-sample-0123456789'], expected: 'token:x-sample-0123456789' };
      if (key === 'handlers') return { argv: [flag, 'my-jobs'], expected: path.join(cwd, 'my-jobs') };
      return { argv: [flag, 'x-sample'], expected: 'x-sample' };
  }
}

function parseWork(argv: string[]): Record<string, unknown> {
  const cmd = withWorkerOptions(withConnectionOptions(new Command('work')))
    .exitOverride()
    .action(() => undefined);
  cmd.parse(argv, { from: 'user' });
  return cmd.opts();
}

describe('the config declaration', () => {
  it('DEFAULTS holds every declared key and nothing else', () => {
    expect(Object.keys(DEFAULTS)).toEqual(CONFIG_KEYS);
    expect(CONFIG_KEYS.length).toBeGreaterThanOrEqual(28);
  });

  it.each(CONFIG_KEYS)('%s: its verk work flag reaches the config', async (key) => {
    const cwd = tempDir();
    const { argv, expected } = sample(key, cwd);
    const { config } = await loadConfig({ cwd, env: {}, flags: configFlags(parseWork(argv)) });
    expect(config[key]).toEqual(expected);
    expect(expected).not.toEqual(DEFAULTS[key]);
  });

  it.each(CONFIG_KEYS)('%s: VERK_<KEY> reaches the config', async (key) => {
    const cwd = tempDir();
    const { argv, expected } = sample(key, cwd);
    const env = CONFIG_DECLARATION[key].kind === 'bool' ? { [envOf(key)]: 'true', VERK_NODE_ID: 'pod-7', VERK_PROCESSES: '1' } : { [envOf(key)]: argv[1] };
    const { config } = await loadConfig({ cwd, env });
    expect(config[key]).toEqual(expected);
  });

  it('keeps the short flags -q, -p and -r', async () => {
    const opts = parseWork(['-q', 'x:4', '-p', '3', '-r', 'redis://h:1/1']);
    const { config } = await loadConfig({ cwd: tempDir(), env: {}, flags: configFlags(opts) });
    expect([config.queues[0].concurrency, config.processes, config.redisUrl]).toEqual([4, 3, 'redis://h:1/1']);
  });

  it('every key has a --help line naming its default and environment variable', () => {
    const help = withWorkerOptions(withConnectionOptions(new Command('work'))).helpInformation();
    for (const key of CONFIG_KEYS) {
      expect(help).toContain(flagSpec(key));
      expect(helpLine(key)).toMatch(new RegExp(`env (\\w+ or )?${envOf(key)}\\)$`));
      expect(helpLine(key)).toContain(`default ${CONFIG_DECLARATION[key].defaultText}`);
    }
    expect(helpLine('redisUrl')).toContain('env REDIS_URL or VERK_REDIS_URL');
  });

  it.each(['README.md', 'docs/cli.md'])('%s holds the generated table of every key', (file) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const m = /<!-- config-table[^>]*-->\n([\s\S]*?)\n<!-- \/config-table -->/.exec(text);
    expect(m, `${file} has no <!-- config-table --> … <!-- /config-table --> block`).not.toBeNull();
    expect(m![1], `paste this table into ${file}:\n${configTable()}\n`).toBe(configTable());
  });
});

describe('handler options.timeout is bounded like config timers', () => {
  const log = { debug() {}, info() {}, warn() {}, error() {}, child: () => log } as unknown as Logger;

  it('25d is a load error naming the maximum; 24d loads', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'Slow.mjs'), 'export const options = { timeout: "25d" };\nexport function perform() {}\n');
    fs.writeFileSync(path.join(dir, 'Long.mjs'), 'export const options = { timeout: "24d" };\nexport function perform() {}\n');
    const reg = await loadHandlers(dir, log);
    expect(reg.errors).toHaveLength(1);
    expect(reg.errors[0].file).toBe(path.join(dir, 'Slow.mjs'));
    expect(reg.errors[0].error).toMatch(/"25d" is too long: a timer must be at most 24\.8 days \(2147483647ms\)/);
    expect(reg.get('Long')?.timeoutMs).toBe(24 * 86_400_000);
  });
});
