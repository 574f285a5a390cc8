// Unit tests for src/config/load.ts, schema.ts and src/util/duration.ts: layering, file formats, validation messages.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type LoadOptions } from '../../src/config/load.js';
import { cpuCount } from '../../src/config/defaults.js';
import { ConfigError } from '../../src/util/errors.js';
import { formatDuration, MAX_TIMER_MS, parseDuration, parseTimerDuration } from '../../src/util/duration.js';
import { CONFIG_DECLARATION } from '../../src/config/defaults.js';
import { CONFIG_KEYS } from '../../src/config/schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A temp project dir holding the given files (objects are written as JSON). */
function project(files: Record<string, string | object> = {}): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'verk-config-')));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

const load = (cwd: string, opts: LoadOptions = {}) => loadConfig({ cwd, env: {}, ...opts });

async function configError(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).exitCode).toBe(78);
  return err as ConfigError;
}

describe('parseDuration / formatDuration', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1.5s', 1500],
    [' 5 s ', 5000],
    ['300', 300],
    [1500, 1500],
    [0, 0],
    [2.4, 2],
  ])('%j → %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'soon', '5 sec', '-5s', '5x', '1e3', -1, NaN, Infinity, null, undefined, true, {}])('rejects %j with a hint', (input) => {
    expect(() => parseDuration(input)).toThrow(/not a duration.*"5s"/);
  });

  it('formats durations for humans', () => {
    expect([formatDuration(250), formatDuration(1500), formatDuration(90_000), formatDuration(5_400_000), formatDuration(7 * 86_400_000)]).toEqual([
      '250ms',
      '1.5s',
      '1.5m',
      '1.5h',
      '7d',
    ]);
  });

  it('parseTimerDuration accepts up to 2^31-1 ms and refuses more, saying the maximum', () => {
    expect(parseTimerDuration(MAX_TIMER_MS)).toBe(2_147_483_647);
    expect(parseTimerDuration('24d')).toBe(24 * 86_400_000);
    expect(() => parseTimerDuration(MAX_TIMER_MS + 1)).toThrow(/at most 24\.8 days \(2147483647ms\)/);
    expect(() => parseTimerDuration('25d')).toThrow(/"25d" is too long/);
  });
});

describe('loadConfig: defaults and layering', () => {
  it('uses the defaults when nothing is set', async () => {
    const dir = project();
    const { config, file } = await load(dir);
    expect(file).toBeUndefined();
    expect(config.queues).toEqual([{ name: 'default', concurrency: 10, timeout: 0 }]);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379/0');
    expect(config.maxRetries).toBe(25);
    expect(config.handlers).toBe(path.join(dir, 'jobs'));
    expect(config.processes).toBe(cpuCount());
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.queues)).toBe(true);
  });

  it('layers defaults < file < env < flags', async () => {
    const dir = project({ 'verk.config.json': { processes: 2, maxRetries: 5, deadMaxJobs: 7, prefix: 'file:' } });
    const env = { VERK_PROCESSES: '3', VERK_MAX_RETRIES: '6' };
    const { config, file } = await load(dir, { env, flags: { processes: 4, prefix: undefined } });
    expect(file).toBe(path.join(dir, 'verk.config.json'));
    expect(config).toMatchObject({ processes: 4, maxRetries: 6, deadMaxJobs: 7, prefix: 'file:', killGrace: 5000 });
  });

  it('reads REDIS_URL and lets VERK_REDIS_URL and the flag override it', async () => {
    const dir = project();
    expect((await load(dir, { env: { REDIS_URL: 'redis://a:1/0' } })).config.redisUrl).toBe('redis://a:1/0');
    expect((await load(dir, { env: { REDIS_URL: 'redis://a:1/0', VERK_REDIS_URL: 'redis://b:2/0' } })).config.redisUrl).toBe('redis://b:2/0');
    expect((await load(dir, { env: { REDIS_URL: 'redis://a:1/0' }, flags: { redisUrl: 'rediss://c:3/1' } })).config.redisUrl).toBe('rediss://c:3/1');
  });

  it('reads booleans and enums from env', async () => {
    const { config } = await load(project(), { env: { VERK_FIXED_NODE_ID: 'true', VERK_NODE_ID: 'pod-1', VERK_PROCESSES: '1', VERK_LOG_LEVEL: 'debug' } });
    expect(config).toMatchObject({ fixedNodeId: true, nodeId: 'pod-1', logLevel: 'debug' });
  });
});

describe('loadConfig: file formats', () => {
  it('reads verk.config.yaml', async () => {
    const dir = project({ 'verk.config.yaml': 'queues:\n  default: 3\n  mail:\n    concurrency: 2\n    timeout: 30s\nheartbeatInterval: 250ms\nnodeTtl: 5s\n' });
    const { config } = await load(dir);
    expect(config.queues).toEqual([
      { name: 'default', concurrency: 3, timeout: 0 },
      { name: 'mail', concurrency: 2, timeout: 30_000 },
    ]);
    expect(config).toMatchObject({ heartbeatInterval: 250, nodeTtl: 5000 });
  });

  it('reads .verkrc (JSON or YAML)', async () => {
    expect((await load(project({ '.verkrc': '{"maxRetries": 3}' }))).config.maxRetries).toBe(3);
    expect((await load(project({ '.verkrc': 'maxRetries: 4\n' }))).config.maxRetries).toBe(4);
  });

  it('reads the "verk" key of package.json and ignores a package.json without it', async () => {
    const dir = project({ 'package.json': { name: 'app', verk: { queues: 'critical:4', shutdownTimeout: '10m' } } });
    const { config, file } = await load(dir);
    expect(file).toBe(path.join(dir, 'package.json'));
    expect(config.queues).toEqual([{ name: 'critical', concurrency: 4, timeout: 0 }]);
    expect(config.shutdownTimeout).toBe(600_000);
    expect((await load(project({ 'package.json': { name: 'app' } }))).config.maxRetries).toBe(25);
  });

  it('loads verk.config.ts through tsx (CommonJS project)', async () => {
    const dir = project({ 'verk.config.ts': 'const n: number = 7;\nexport default { maxRetries: n, queues: ["a:2", "b"] };\n' });
    const { config, file } = await load(dir);
    expect(file).toBe(path.join(dir, 'verk.config.ts'));
    expect(config.maxRetries).toBe(7);
    expect(config.queues.map((q) => [q.name, q.concurrency])).toEqual([
      ['a', 2],
      ['b', 10],
    ]);
  });

  it('loads verk.config.ts in a "type": "module" project', async () => {
    const dir = project({ 'package.json': { type: 'module' }, 'verk.config.ts': 'export default { maxRetries: 9 as number };\n' });
    expect((await load(dir)).config.maxRetries).toBe(9);
  });

  it('loads the file named by --config or VERK_CONFIG instead of searching', async () => {
    const dir = project({ 'verk.config.json': { maxRetries: 1 }, 'other/custom.yaml': 'maxRetries: 2\n' });
    expect((await load(dir, { configPath: 'other/custom.yaml' })).config.maxRetries).toBe(2);
    expect((await load(dir, { env: { VERK_CONFIG: 'other/custom.yaml' } })).config.maxRetries).toBe(2);
  });

  it('--config naming a missing file is a ConfigError', async () => {
    const err = await configError(load(project(), { configPath: 'nope.json' }));
    expect(err.message).toMatch(/nope\.json does not exist/);
  });

  it('a file that cannot be parsed or is not an object is a ConfigError', async () => {
    expect((await configError(load(project({ 'verk.config.json': '{"queues": ' })))).message).toMatch(/could not be read/);
    expect((await configError(load(project({ 'verk.config.json': '[1]' })))).message).toMatch(/must export an object/);
  });
});

describe('loadConfig: queues', () => {
  it.each([
    [
      'default:10,mail:5',
      [
        ['default', 10, 0],
        ['mail', 5, 0],
      ],
    ],
    [
      ' a:1 , b ',
      [
        ['a', 1, 0],
        ['b', 10, 0],
      ],
    ],
    [
      ['a:1', 'b:2,c:3'],
      [
        ['a', 1, 0],
        ['b', 2, 0],
        ['c', 3, 0],
      ],
    ],
    [
      { a: 3, b: '4', c: { concurrency: 2, timeout: '30s' }, d: { timeout: 500 } },
      [
        ['a', 3, 0],
        ['b', 4, 0],
        ['c', 2, 30_000],
        ['d', 10, 500],
      ],
    ],
  ])('accepts %j', async (queues, expected) => {
    const { config } = await load(project({ 'verk.config.json': { queues } }));
    expect(config.queues.map((q) => [q.name, q.concurrency, q.timeout])).toEqual(expected);
  });

  it('reads VERK_QUEUES and --queues', async () => {
    expect((await load(project(), { env: { VERK_QUEUES: 'x:2' } })).config.queues).toEqual([{ name: 'x', concurrency: 2, timeout: 0 }]);
    expect((await load(project(), { flags: { queues: 'y:3' } })).config.queues).toEqual([{ name: 'y', concurrency: 3, timeout: 0 }]);
  });

  it.each([
    ['a:0', /queue a: concurrency/],
    ['a:x', /queue a: concurrency/],
    ['a:1,a:2', /lists queue a twice/],
    ['bad name:1', /bad queue name/],
    ['a:1:2', /bad entry/],
    ['', /names no queue/],
    [[1], /entries must be strings/],
    [{ a: { concurrency: 1, timout: '1s' } }, /unknown key `timout`/],
    [{ a: { timeout: 'soon' } }, /queue a: timeout/],
    [42, /must be like/],
  ])('rejects %j, naming the key', async (queues, message) => {
    const err = await configError(load(project({ 'verk.config.json': { queues } })));
    expect(err.message).toMatch(/^verk\.config\.json: `queues`/);
    expect(err.message).toMatch(message);
  });
});

describe('loadConfig: errors name the key and suggest a fix', () => {
  it('unknown key in a file names the file and suggests the right key', async () => {
    const err = await configError(load(project({ 'verk.config.json': { queue: 'a:1' } })));
    expect(err.message).toBe('verk.config.json: unknown key `queue` — did you mean `queues`?');
  });

  it('unknown key without a close match has no suggestion', async () => {
    const err = await configError(load(project({ 'verk.config.yaml': 'zzzzzzzzzz: 1\n' })));
    expect(err.message).toMatch(/verk\.config\.yaml: unknown key `zzzzzzzzzz`$/);
  });

  it('unknown VERK_* variable suggests the right one; VERK_CONFIG is not a key', async () => {
    const err = await configError(load(project(), { env: { VERK_QUEUE: 'a:1' } }));
    expect(err.message).toMatch(/VERK_QUEUE — did you mean VERK_QUEUES\?/);
    expect((await configError(load(project(), { env: { VERK_HEARTBEAT_INTERVL: '1s' } }))).message).toMatch(/VERK_HEARTBEAT_INTERVAL/);
  });

  it('bad values name the key and where they came from', async () => {
    expect((await configError(load(project({ 'verk.config.json': { processes: 'many' } })))).message).toMatch(/verk\.config\.json: `processes` must be a whole number/);
    expect((await configError(load(project(), { env: { VERK_NODE_TTL: 'abc' } }))).message).toMatch(/VERK_NODE_TTL: `nodeTtl` is invalid/);
    expect((await configError(load(project(), { flags: { heartbeatInterval: 'x' } }))).message).toMatch(/--heartbeat-interval: `heartbeatInterval`/);
    expect((await configError(load(project(), { env: { VERK_LOG_LEVEL: 'loud' } }))).message).toMatch(/`logLevel` must be one of debug, info/);
    expect((await configError(load(project(), { flags: { healthPort: 70000 } }))).message).toMatch(/`healthPort` must be at most 65535/);
    expect((await configError(load(project(), { flags: { nodeTtl: '10ms' } }))).message).toMatch(/`nodeTtl` must be at least 50/);
  });

  it('refuses heartbeatInterval above nodeTtl/3 with the why and a fix; exactly a third is fine', async () => {
    const err = await configError(load(project({ 'verk.config.json': { heartbeatInterval: '5s', nodeTtl: '14s' } })));
    expect(err.message).toMatch(/`heartbeatInterval` \(5000ms\) must be at most a third of `nodeTtl` \(14000ms\)/);
    expect(err.message).toMatch(/one slow or failed beat/);
    expect(err.message).toMatch(/--node-ttl to at least 15000ms or --heartbeat-interval to at most 4666ms/);
    expect((await configError(load(project(), { flags: { heartbeatInterval: '5s', nodeTtl: '5s' } }))).message).toMatch(/at most a third/);
    expect((await load(project({ 'verk.config.json': { heartbeatInterval: '5s', nodeTtl: '15s' } }))).config.nodeTtl).toBe(15_000);
    expect((await load(project(), { flags: { heartbeatInterval: '100ms', nodeTtl: '600ms', hangTimeout: '1s' } })).config.heartbeatInterval).toBe(100);
  });

  it('refuses a hangTimeout shorter than three worker pings (every min(heartbeatInterval, 1s))', async () => {
    const err = await configError(load(project(), { flags: { hangTimeout: '2999ms' } }));
    expect(err.message).toMatch(/`hangTimeout` \(2999ms\) must be at least three worker pings \(3 × 1000ms\).*--hang-timeout to at least 3000ms/);
    expect((await load(project(), { flags: { hangTimeout: '3s' } })).config.hangTimeout).toBe(3000);
    expect((await configError(load(project(), { flags: { heartbeatInterval: '250ms', nodeTtl: '1500ms', hangTimeout: '700ms' } }))).message).toMatch(/3 × 250ms/);
    expect((await load(project(), { flags: { heartbeatInterval: '250ms', nodeTtl: '1500ms', hangTimeout: '750ms' } })).config.hangTimeout).toBe(750);
  });

  it('refuses shutdownTimeout + killGrace that would overflow the stop deadline timer', async () => {
    const err = await configError(load(project(), { flags: { shutdownTimeout: '24d', killGrace: '1d' } }));
    expect(err.message).toMatch(/`shutdownTimeout` \+ `killGrace` must be 2147473647ms or less.*24\.8 days/);
    expect((await load(project(), { flags: { shutdownTimeout: '24d', killGrace: '5s' } })).config.shutdownTimeout).toBe(24 * 86_400_000);
  });

  it('rejects a redisUrl without redis:// and fixedNodeId without nodeId or with several processes', async () => {
    expect((await configError(load(project(), { flags: { redisUrl: 'localhost:6379' } }))).message).toMatch(/redis:\/\//);
    expect((await configError(load(project(), { flags: { fixedNodeId: true, processes: 1 } }))).message).toMatch(/needs `nodeId`/);
    expect((await configError(load(project(), { flags: { fixedNodeId: true, nodeId: 'a', processes: 2 } }))).message).toMatch(/set `processes` to 1/);
  });
});

describe('loadConfig: processes and handlers', () => {
  it('processes 0 means one per CPU core', async () => {
    expect((await load(project(), { flags: { processes: 0 } })).config.processes).toBe(cpuCount());
    expect((await load(project(), { flags: { processes: 3 } })).config.processes).toBe(3);
  });

  it('resolves handlers set in a file relative to that file', async () => {
    const dir = project({ 'conf/verk.config.json': { handlers: './workers' } });
    const { config } = await load(dir, { configPath: 'conf/verk.config.json' });
    expect(config.handlers).toBe(path.join(dir, 'conf', 'workers'));
  });

  it('resolves handlers from env or flags, or the default, relative to cwd', async () => {
    const dir = project({ 'conf/verk.config.json': { handlers: './workers', maxRetries: 1 } });
    expect((await load(dir, { configPath: 'conf/verk.config.json', env: { VERK_HANDLERS: 'env-jobs' } })).config.handlers).toBe(path.join(dir, 'env-jobs'));
    expect((await load(dir, { configPath: 'conf/verk.config.json', flags: { handlers: 'flag-jobs' } })).config.handlers).toBe(path.join(dir, 'flag-jobs'));
    const other = project({ 'conf/verk.config.json': { maxRetries: 1 } });
    expect((await load(other, { configPath: 'conf/verk.config.json' })).config.handlers).toBe(path.join(other, 'jobs'));
    expect((await load(dir, { flags: { handlers: '/abs/jobs' } })).config.handlers).toBe('/abs/jobs');
  });

  it('requireHandlers: a missing handlers directory is a ConfigError, an existing one is fine', async () => {
    const err = await configError(load(project(), { requireHandlers: true }));
    expect(err.message).toMatch(/handlers directory .*jobs does not exist/);
    const dir = project({ 'jobs/A.js': 'export function perform() {}' });
    expect((await load(dir, { requireHandlers: true })).config.handlers).toBe(path.join(dir, 'jobs'));
    expect((await configError(load(project({ jobs: 'a file' }), { requireHandlers: true }))).message).toMatch(/does not exist/);
  });
});

describe('loadConfig: timers are at most 2^31-1 ms', () => {
  const durationKeys = CONFIG_KEYS.filter((k) => CONFIG_DECLARATION[k].kind === 'duration');
  const timerKeys = durationKeys.filter((k) => !['recoveryWindow', 'deadTimeout'].includes(k));

  it('the declaration bounds every duration but the two Redis-side ages', () => {
    expect(durationKeys.filter((k) => !timerKeys.includes(k))).toEqual(['recoveryWindow', 'deadTimeout']);
    expect(timerKeys.length).toBeGreaterThanOrEqual(9);
  });

  it.each(timerKeys)('--%s 25d is refused naming the key and the maximum', async (key) => {
    const err = await configError(load(project(), { flags: { [key]: '25d' } }));
    expect(err.message).toMatch(new RegExp(`^--[a-z-]+: \`${key}\` must be at most 24\\.8 days \\(2147483647ms\\)`));
    expect(err.message).toMatch(/got 2160000000ms \(25d\)/);
  });

  it('env and file values are bounded the same way', async () => {
    expect((await configError(load(project(), { env: { VERK_JOB_TIMEOUT: '25d' } }))).message).toMatch(/^VERK_JOB_TIMEOUT: `jobTimeout` must be at most 24\.8 days/);
    expect((await configError(load(project({ 'verk.config.json': { jobTimeout: MAX_TIMER_MS + 1 } })))).message).toMatch(
      /^verk\.config\.json: `jobTimeout` must be at most/,
    );
    expect((await load(project(), { flags: { jobTimeout: MAX_TIMER_MS } })).config.jobTimeout).toBe(MAX_TIMER_MS);
  });

  it('a queue timeout of 25d is refused; the Redis-side ages may be longer', async () => {
    const err = await configError(load(project({ 'verk.config.json': { queues: { mail: { concurrency: 2, timeout: '25d' } } } })));
    expect(err.message).toMatch(/^verk\.config\.json: `queues` queue mail: timeout "25d" is too long: a timer must be at most 24\.8 days/);
    const { config } = await load(project(), { flags: { deadTimeout: '365d', recoveryWindow: '30d' } });
    expect([config.deadTimeout, config.recoveryWindow]).toEqual([365 * 86_400_000, 30 * 86_400_000]);
  });
});

describe('loadConfig: redisUrl is read strictly', () => {
  it.each([
    ['redis://127.0.0.1:6379/0', 0],
    ['redis://h', 0],
    ['redis://h/', 0],
    ['rediss://user:p%40ss@h:6380/15', 15],
    ['redis://:secret@[::1]:6379/3', 3],
    ['REDIS://h:1/2', 2],
    ['redis://h/0?family=6', 0],
    ['redis+sentinel://h1:26379,h2:26380,h3/mymaster', 0],
    ['redis+sentinel://:secret@h1,h2/mymaster/4?sentinelPassword=secret', 4],
  ])('accepts %s', async (url) => {
    expect((await load(project(), { flags: { redisUrl: url } })).config.redisUrl).toBe(url);
  });

  it.each([
    ['redis://h:6379/abc', /database "abc": the path must be \/N/],
    ['redis://h:6379/1/2', /database "1\/2"/],
    ['redis://h:6379/-1', /database "-1"/],
    ['redis://h:6379/99999999999', /database "99999999999"/],
    ['redis://h:0/0', /port "0": use a number from 1 to 65535/],
    ['redis://h:65536/0', /port "65536"/],
    ['redis://h:abc/0', /port "abc"/],
    ['redis://:6379/0', /names no host/],
    ['http://h:6379/0', /scheme "http:\/\/": use redis:\/\/, rediss:\/\/ \(TLS\), redis\+sentinel:\/\/ or redis\+cluster:\/\//],
    ['redis+sentinel://h1:26379,h2:26379', /names no master/],
    ['redis+sentinel://h1:26379,,h2/m', /empty Sentinel address/],
    ['redis+sentinel://h1:26379/m/x', /database "x": the path must be \/<master name>\/N/],
    ['redis+sentinel://h1/m/0?password=secret', /query parameter "password"/],
    ['localhost:6379', /is not a URL/],
    ['redis://h/0?db=3', /db in the query/],
    ['redis://:pa#ss@h/0', /"#" fragment/],
    ['redis://:pa/ss@h/0', /"@" after the host/],
  ])('refuses %s naming the part', async (url, message) => {
    const err = await configError(load(project(), { flags: { redisUrl: url } }));
    expect(err.message).toMatch(/^--redis-url: `redisUrl` /);
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/pa#ss|pa\/ss|secret/);
  });

  it('REDIS_URL and VERK_REDIS_URL are checked the same way', async () => {
    expect((await configError(load(project(), { env: { REDIS_URL: 'redis://h/99x' } }))).message).toMatch(/^REDIS_URL: `redisUrl` has database "99x"/);
    expect((await configError(load(project(), { env: { VERK_REDIS_URL: 'redis://h/x' } }))).message).toMatch(/^VERK_REDIS_URL:/);
  });
});
