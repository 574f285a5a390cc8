// The config through the built binary: `verk work --help` lists a flag for every key, every flag
// is known to `verk work`, and values that cannot work exit 78 before anything connects; a config
// file with a syntax error exits 78 naming file:line:column and the parser's message.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_DECLARATION } from '../../src/config/defaults.js';
import { flagOf } from '../../src/config/declare.js';
import { flagSpec } from '../../src/config/help.js';
import { CONFIG_KEYS } from '../../src/config/schema.js';
import { verk } from '../helpers/cli.js';

const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-config-cli-'));
fs.mkdirSync(path.join(cwd, 'jobs'));
afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));
/** Nothing here may connect: the URL names a port no server listens on. */
const run = (args: string[]) => verk(['work', '--redis-url', 'redis://127.0.0.1:1/0', ...args], { cwd, timeout: 20_000 });

describe('verk work flags', () => {
  it("--help lists every config key's flag", async () => {
    const res = await verk(['work', '--help']);
    expect(res.exitCode).toBe(0);
    const missing = CONFIG_KEYS.filter((k) => !res.stdout.includes(flagSpec(k)));
    expect(missing).toEqual([]);
  });

  it("accepts every key's flag (the last one, --job-timeout 25d, is what refuses)", async () => {
    const args: string[] = [];
    for (const key of CONFIG_KEYS) {
      const d = CONFIG_DECLARATION[key];
      if (key === 'redisUrl' || key === 'jobTimeout' || key === 'fixedNodeId') continue;
      const value =
        d.kind === 'duration'
          ? `${(d.default as number) + 1000}ms`
          : d.kind === 'int'
            ? String((d.default as number) + 1)
            : d.kind === 'queues'
              ? 'a:1'
              : d.kind === 'cron'
                ? '{"n":{"class":"A","schedule":"0 3 * * *"}}'
                : d.kind === 'limits'
                  ? '{"a":{"concurrency":1}}'
                  : d.kind === 'enum'
                    ? String(d.default)
                    : 'x';
      const special: Record<string, string> = { handlers: 'jobs', webAuth: 'token:x-sample-0123456789', webReadAuth: 'basic:u:p' };
      args.push(flagOf(key), special[key] ?? value);
    }
    const res = await run([...args, '--fixed-node-id', '--job-timeout', '25d']);
    expect(res.stderr).toMatch(/^verk: config error: --job-timeout: `jobTimeout` must be at most 24\.8 days \(2147483647ms\)/);
    expect(res.exitCode).toBe(78);
    expect(args.length / 2).toBe(CONFIG_KEYS.length - 3);
  });

  it('an unknown flag is a usage error (64)', async () => {
    const res = await run(['--max-retrys', '3']);
    expect(res.exitCode).toBe(64);
    expect(res.stderr).toMatch(/unknown option '--max-retrys'/);
  });
});

describe('values that cannot work exit 78, naming the key', () => {
  it.each([
    [['--shutdown-timeout', '25d'], /`shutdownTimeout` must be at most 24\.8 days/],
    [['--heartbeat-interval', '10s'], /`heartbeatInterval` \(10000ms\) must be at most a third of `nodeTtl` \(20000ms\)/],
    [['--hang-timeout', '1s'], /`hangTimeout` \(1000ms\) must be at least three worker pings/],
    [['--redis-url', 'redis://127.0.0.1:6379/abc'], /`redisUrl` has database "abc"/],
    [['--redis-url', 'redis://127.0.0.1:70000/0'], /`redisUrl` has port "70000"/],
    [['--redis-url', 'http://127.0.0.1:6379/0'], /`redisUrl` has scheme "http:\/\/"/],
  ])('%j', async (args, message) => {
    const res = await run(args);
    expect(res.exitCode).toBe(78);
    expect(res.stderr).toMatch(message);
  });

  it('a queue timeout of 25d in the config file', async () => {
    const dir = fs.mkdtempSync(path.join(cwd, 'q-'));
    fs.mkdirSync(path.join(dir, 'jobs'));
    fs.writeFileSync(path.join(dir, 'verk.config.json'), JSON.stringify({ queues: { mail: { concurrency: 1, timeout: '25d' } } }));
    const res = await verk(['work', '--redis-url', 'redis://127.0.0.1:1/0'], { cwd: dir });
    expect(res.exitCode).toBe(78);
    expect(res.stderr).toMatch(/verk\.config\.json: `queues` queue mail: timeout "25d" is too long: a timer must be at most 24\.8 days/);
  });
});

describe('a config file with a syntax error exits 78 with file:line:column and the message', () => {
  it.each([
    ['verk.config.json', '{\n  "queues": "default:5",\n  "concurrency": 3,\n}\n', '4:1 Expected double-quoted property name'],
    ['verk.config.yaml', 'queues: default:5\n  concurrency: [3\n', '2:14 bad indentation of a mapping entry'],
    ['verk.config.ts', 'export default {\n  queues: "default:5",,\n};\n', '2:23 Expected identifier but found ","'],
    ['verk.config.js', 'export default {\n  queues: "default:5" +,\n};\n', "2:24 Unexpected token ','"],
  ])('%s', async (name, text, where) => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(cwd, 'syntax-')));
    fs.mkdirSync(path.join(dir, 'jobs'));
    fs.writeFileSync(path.join(dir, name), text);
    for (const args of [['work'], ['stats']]) {
      const res = await verk([...args, '--redis-url', 'redis://127.0.0.1:1/0'], { cwd: dir, timeout: 20_000 });
      expect(res.stderr.trim()).toBe(`verk: config error: config file could not be read: ${path.join(dir, name)}:${where}`);
      expect(res.exitCode).toBe(78);
    }
  });
});
