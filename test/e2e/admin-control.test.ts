// Cluster control from the CLI against a real Redis: `verk pause|resume` (the verk:paused set),
// the Sidekiq process registry a supervisor writes each beat (driven through tick() with a stub
// supervisor), and `verk quiet|stop <identity|verk node id|--all>` reaching it through
// `<identity>-signals`, as Sidekiq's Web UI does.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { verk } from '../helpers/cli.js';
import { testConfig } from '../helpers/config.js';
import { parseJson } from '../helpers/admin-kit.js';
import { SidekiqRegistry, type RegistryHost } from '../../src/runner/sidekiq-registry.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';
import { emptyCounters } from '../../src/runner/job-totals.js';
import type { ChildCounters, RunningJobInfo } from '../../src/runner/ipc.js';

let server: RedisServer;
let r: RedisServer['client'];
let conn: Redis;

beforeAll(async () => {
  server = await startRedis();
  r = server.client;
  conn = new Redis(server.url);
});
afterAll(async () => {
  conn.disconnect();
  await server.stop();
});
beforeEach(async () => {
  await r.flushdb();
});

const url = () => ['--redis-url', server.url];

describe('verk pause / resume', () => {
  it('adds and removes the queue in verk:paused, idempotently, in text and --json', async () => {
    const p = await verk(['pause', 'mail', '--json', ...url()]);
    expect(p.exitCode).toBe(0);
    expect(parseJson(p)).toEqual({ queue: 'mail', paused: true, changed: true });
    expect(await r.smembers('verk:paused')).toEqual(['mail']);
    expect((await verk(['pause', 'mail', ...url()])).stdout).toBe('queue mail was already paused');
    const q = parseJson(await verk(['queues', '--json', ...url()]));
    expect(q.queues).toEqual([{ name: 'mail', size: 0, latency: 0, paused: true }]);
    const res = await verk(['resume', 'mail', ...url()]);
    expect(res.stdout).toBe('resumed queue mail: nodes fetch from it again within blockTimeout (5 s by default)');
    expect(await r.exists('verk:paused')).toBe(0);
    expect(parseJson(await verk(['resume', 'mail', '--json', ...url()]))).toEqual({ queue: 'mail', paused: false, changed: false });
  });

  it('honours --prefix', async () => {
    await verk(['pause', 'default', '--prefix', 'app1:', ...url()]);
    expect(await r.smembers('app1:verk:paused')).toEqual(['default']);
  });
});

interface StubHost extends RegistryHost {
  calls: string[];
  state: string;
  totals: ChildCounters[];
}

function stubHost(running: RunningJobInfo[] = []): StubHost {
  const calls: string[] = [];
  return {
    config: testConfig({
      queues: [
        { name: 'default', concurrency: 5, timeout: 0 },
        { name: 'mail', concurrency: 2, timeout: 0 },
      ],
      processes: 2,
    }),
    redis: conn,
    scripts: new Scripts(conn, makeKeys('')),
    state: 'running',
    totals: [emptyCounters()],
    counters() {
      return this.totals;
    },
    children: new Map([
      ['n-1', { busy: running.length, rss: 50 * 1024 * 1024, running }],
      ['n-2', { busy: 0, rss: 40 * 1024 * 1024, running: [] }],
    ]),
    calls,
    quiet() {
      calls.push('quiet');
      this.state = 'quiet';
    },
    async stop() {
      calls.push('stop');
    },
  };
}

describe('Sidekiq process registry', () => {
  it('writes processes, the identity hash (Sidekiq fields, 60 s TTL) and the workers hash', async () => {
    const started = Date.now() - 3000;
    const host = stubHost([{ jid: 'j1', class: 'Mailers.Welcome', queue: 'mail', started_at: started, args: '[1,"two",{"big":12345678901234567890}]' }]);
    const reg = new SidekiqRegistry(host);
    expect(reg.identity).toMatch(/^[^:]+:\d+:[0-9a-f]{12}$/);
    await reg.tick();
    expect(await r.smembers('processes')).toEqual([reg.identity]);
    const h = await r.hgetall(reg.identity);
    expect(Object.keys(h).sort()).toEqual(['beat', 'busy', 'info', 'quiet', 'rss', 'rtt_us']);
    const info = JSON.parse(h.info);
    expect(info).toEqual({
      hostname: reg.hostname,
      started_at: reg.startedAt,
      pid: process.pid,
      tag: reg.identity,
      concurrency: 14,
      queues: ['default', 'mail'],
      labels: ['verk', 'n-1', 'n-2'],
      identity: reg.identity,
    });
    expect(typeof info.started_at).toBe('number');
    expect(h.busy).toBe('1');
    expect(h.quiet).toBe('false');
    expect(Number(h.beat)).toBeGreaterThan(Date.now() / 1000 - 5);
    expect(h.beat).toMatch(/^\d+\.\d+$/);
    expect(h.rtt_us).toMatch(/^\d+$/);
    expect(Number(h.rss)).toBeGreaterThanOrEqual(90 * 1024); // supervisor + children, in KB
    expect(h.rss).toMatch(/^\d+$/);
    const ttl = await r.ttl(reg.identity);
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
    const workers = await r.hgetall(`${reg.identity}:workers`);
    expect(Object.keys(workers)).toEqual(['j1']);
    const w = JSON.parse(workers.j1);
    expect(w).toEqual({ queue: 'mail', payload: expect.any(String), run_at: Math.floor(started / 1000) });
    // The args' text is spliced in as the child sent it: big integers keep their digits.
    expect(w.payload).toBe('{"queue":"mail","class":"Mailers.Welcome","args":[1,"two",{"big":12345678901234567890}],"jid":"j1"}');
    expect(await r.ttl(`${reg.identity}:workers`)).toBeGreaterThan(55);

    // Next beat with no running job: the workers hash is gone (UNLINK, nothing written).
    host.children.get('n-1')!.running = [];
    await reg.tick();
    expect(await r.exists(`${reg.identity}:workers`)).toBe(0);

    // A clean stop leaves `processes`; the identity hash is left to expire.
    host.children.get('n-1')!.running = [{ jid: 'j2', class: 'X', queue: 'default', started_at: Date.now() }];
    await reg.tick();
    await reg.stop();
    expect(await r.smembers('processes')).toEqual([]);
    expect(await r.exists(`${reg.identity}:workers`)).toBe(0);
    expect(await r.exists(reg.identity)).toBe(1);
  });

  it('flushes the daily counters on its beat: a failed flush is kept and added by the next, none counts twice, stop flushes the rest', async () => {
    const host = stubHost();
    const reg = new SidekiqRegistry(host);
    const day = () => new Date().toISOString().slice(0, 10);
    const read = async () => (await r.mget(`stat:processed:${day()}`, `stat:failed:${day()}`)).map(Number);
    host.totals = [
      { ...emptyCounters(), processed: 4, failed: 1 },
      { ...emptyCounters(), processed: 2, failed: 0 },
    ];
    await reg.tick();
    expect(await read()).toEqual([7, 1]); // executions = acked + failed
    await reg.tick(); // nothing new: nothing added
    expect(await read()).toEqual([7, 1]);
    // Redis refuses the next flush (a counter that is not an integer): the beat fails, the counts wait.
    host.totals[1] = { ...emptyCounters(), processed: 5, failed: 2 };
    await r.set(`stat:failed:${day()}`, 'not a number');
    await expect(reg.tick()).rejects.toThrow('holds the wrong type');
    expect(await r.hget(reg.identity, 'busy')).toBe('0'); // the process hash was still written first
    await r.set(`stat:failed:${day()}`, '1');
    await reg.tick();
    expect(await read()).toEqual([12, 3]);
    expect(reg.dailyStats.confirmed).toEqual({ processed: 12, failed: 3 });
    // Jobs settled after the last beat are added by the final flush at stop.
    host.totals.push({ ...emptyCounters(), processed: 1, failed: 0 });
    await reg.stop();
    expect(await read()).toEqual([13, 3]);
    expect(await r.ttl(`verk:stat:flushed:${reg.identity}`)).toBeLessThanOrEqual(300);
  });

  it('verk quiet <identity> pushes TSTP; the next beat quiets the supervisor and reports quiet', async () => {
    const host = stubHost();
    const reg = new SidekiqRegistry(host);
    await reg.tick();
    const res = await verk(['quiet', reg.identity, '--json', ...url()]);
    expect(res.exitCode).toBe(0);
    expect(parseJson(res)).toEqual({ signal: 'TSTP', targets: [{ identity: reg.identity, hostname: reg.hostname, pid: process.pid }] });
    expect(await r.lrange(`${reg.identity}-signals`, 0, -1)).toEqual(['TSTP']);
    const ttl = await r.ttl(`${reg.identity}-signals`);
    expect(ttl).toBeGreaterThan(55);
    await reg.tick();
    expect(host.calls).toEqual(['quiet']);
    expect(reg.lastSignal).toBe('TSTP');
    expect(await r.exists(`${reg.identity}-signals`)).toBe(0);
    await reg.tick();
    expect(await r.hget(reg.identity, 'quiet')).toBe('true');
  });

  it('verk stop <verk node id> signals the supervisor that owns the node (TERM)', async () => {
    const host = stubHost();
    const reg = new SidekiqRegistry(host);
    await reg.tick();
    await r.hset('verk:node:web-1-abcd:info', 'identity', reg.identity, 'busy', '0');
    const res = await verk(['stop', 'web-1-abcd', ...url()]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toBe(`sent TERM to ${reg.identity} (stop at its next beat)`);
    await reg.tick();
    expect(host.calls).toEqual(['stop']);
  });

  it('--all reaches every live process and skips expired identities; unknown names exit 1', async () => {
    const a = new SidekiqRegistry(stubHost());
    const b = new SidekiqRegistry(stubHost());
    await a.tick();
    await b.tick();
    await r.sadd('processes', 'gone:1:000000000000'); // no hash: expired, a dead process
    const res = parseJson(await verk(['quiet', '--all', '--json', ...url()]));
    expect(res.signal).toBe('TSTP');
    expect(res.targets.map((t: { identity: string }) => t.identity).sort()).toEqual([a.identity, b.identity].sort());
    expect(await r.exists('gone:1:000000000000-signals')).toBe(0);
    const text = await verk(['stop', '--all', ...url()]);
    expect(text.stdout.split('\n').sort()).toEqual([a.identity, b.identity].sort().map((i) => `sent TERM to ${i} (stop at its next beat)`));
    const unknown = await verk(['quiet', 'nope', ...url()]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('no live process or verk node named "nope"');
    expect((await verk(['quiet', ...url()])).exitCode).toBe(64);
    expect((await verk(['stop', 'x', '--all', ...url()])).exitCode).toBe(64);
  });
});
