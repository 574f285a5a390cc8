// `verk requeue-dead` on fabricated states: --dry-run reads only (every key DUMPed before and
// after) and explains the reaper's math; a real pass moves each job exactly once to the front of
// its queue, deregisters the node, and buries a poison pill in dead with its other bytes intact.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { verk } from '../helpers/cli.js';
import { fabricateNode, job, redisMs, snapshot } from '../helpers/fabricate.js';
import { makeKeys } from '../../src/redis/keys.js';

let server: RedisServer;
let cwd: string;
const keys = makeKeys('');
const POISON = job('p1', { cls: 'Crash.Worker', args: '[12345678901234567890123,"x",[],{}]' });
const DEFAULT_JOBS = ['d1', 'd2', 'd3', 'd4', 'd5'].map((j) => job(j)).concat(POISON, ...['d6', 'd7', 'd8', 'd9', 'd10'].map((j) => job(j)));
const MAIL_JOBS = [job('m1', { queue: 'mail' })];
const LIVE_JOBS = [job('l1')];

const run = (args: string[], env: Record<string, string> = {}) => verk([...args, '--redis-url', server.url], { cwd, env });

beforeAll(async () => {
  server = await startRedis();
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-requeue-dead-'));
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(cwd, { recursive: true, force: true });
});
beforeEach(async () => {
  const r = server.client;
  await r.flushdb();
  const now = await redisMs(r);
  await r.lpush(keys.queue('default'), job('q-old'));
  await fabricateNode(r, keys, {
    id: 'dead-1',
    inprogress: { default: DEFAULT_JOBS, mail: MAIL_JOBS },
    info: {
      host: 'web-9',
      pid: 99,
      beat: now - 47_000,
      registered_at: now - 600_000,
      started_at: (now - 600_000) / 1000,
      version: '0.1.0',
      // Its last heartbeat reported p1 and d2 running: only they count a recovery.
      running: JSON.stringify([
        { jid: 'p1', class: 'Crash.Worker' },
        { jid: 'd2', class: 'Work.Thing' },
      ]),
    },
  });
  await r.set(keys.recovered('p1'), 3);
  await r.set(keys.recovered('d1'), 2);
  await fabricateNode(r, keys, { id: 'live-1', ttlMs: 30_000, inprogress: { default: LIVE_JOBS }, info: { host: 'web-1', beat: now } });
});

describe('verk requeue-dead --dry-run', () => {
  it('changes nothing and reports per queue what would move and which job would go to dead and why', async () => {
    const before = await snapshot(server.client);
    const res = await run(['requeue-dead', '--dry-run', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await snapshot(server.client)).toEqual(before);
    const out = JSON.parse(res.stdout);
    expect(out).toMatchObject({ dry_run: true, max_recoveries: 3, requeue: 11, dead: 1 });
    expect(out.nodes).toHaveLength(1);
    const n = out.nodes[0];
    expect(n).toMatchObject({ node: 'dead-1', status: 'would_reap', node_ttl_ms: 20_000, requeue: 11, dead: 1 });
    expect(n.silent_s).toBeGreaterThanOrEqual(47);
    expect(n.silent_s).toBeLessThan(55);
    expect(n.queues).toEqual([
      { queue: 'default', jobs: 11, requeue: 10, dead: 1 },
      { queue: 'mail', jobs: 1, requeue: 1, dead: 0 },
    ]);
    expect(n.dead_jobs).toHaveLength(1);
    expect(n.dead_jobs[0]).toMatchObject({ jid: 'p1', class: 'Crash.Worker', queue: 'default', recoveries: 3, max_recoveries: 3 });
    expect(n.dead_jobs[0].reason).toContain('maxRecoveries 3');
  });

  it('prints the detection math in words, and the per-queue and dead-job tables', async () => {
    const before = await snapshot(server.client);
    const res = await run(['requeue-dead', '--dry-run']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await snapshot(server.client)).toEqual(before);
    expect(res.stdout).toMatch(/^node dead-1 silent for (4[7-9]|5\d)s; TTL 20s; 11 jobs would be requeued; 1 job would go to dead \(recoveries 3\/3\)$/m);
    expect(res.stdout).toMatch(/^default\s+11\s+10\s+1$/m);
    expect(res.stdout).toMatch(/^p1\s+Crash\.Worker\s+default\s+3\/3\s+would be recovered a 4th time/m);
  });

  it('--node on a live node says it is alive and would not be reaped', async () => {
    const res = await run(['requeue-dead', '--dry-run', '--node', 'live-1', '--json']);
    expect(JSON.parse(res.stdout).nodes).toEqual([expect.objectContaining({ node: 'live-1', status: 'alive', requeue: 0, dead: 0 })]);
    const text = await run(['requeue-dead', '--dry-run', '--node', 'live-1']);
    expect(text.stdout).toContain('node live-1 is alive (its heartbeat key exists): it would not be reaped');
  });
});

describe('verk requeue-dead', () => {
  it('moves every job exactly once to the front of its queue, buries the poison pill intact, deregisters the node', async () => {
    const r = server.client;
    const res = await run(['requeue-dead', '--json'], { VERK_REAP_BATCH: '4' });
    expect(res.exitCode, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out).toEqual({
      dry_run: false,
      by: `cli:${os.hostname()}`,
      requeued: 11,
      dead: 1,
      nodes: [{ node: 'dead-1', status: 'reaped', requeued: 11, dead: 1, remaining: 0 }],
    });
    // RPUSH side = next to be fetched; in-progress order kept (the oldest fetched is fetched first again).
    // Each requeued job carries its counted recoveries: d1 (recovered twice before, not started
    // this time) keeps 2, d2 (started) gets its first, the others 0.
    const marked = (raw: string) => `${raw.slice(0, -1)},"verk_recovered":${raw === job('d1') ? 2 : raw === job('d2') ? 1 : 0}}`;
    expect(await r.lrange(keys.queue('default'), 0, -1)).toEqual([job('q-old'), ...DEFAULT_JOBS.filter((j) => j !== POISON).map(marked)]);
    expect(await r.rpop(keys.queue('default'))).toBe(marked(job('d10')));
    expect(await r.lrange(keys.queue('mail'), 0, -1)).toEqual(MAIL_JOBS.map(marked));
    expect(await r.exists(keys.inprogress('default', 'dead-1'), keys.inprogress('mail', 'dead-1'), keys.nodeQueues('dead-1'), keys.nodeInfo('dead-1'))).toBe(0);
    expect(await r.smembers(keys.nodes)).toEqual(['live-1']);
    expect(await r.smembers(keys.reaping)).toEqual([]);
    expect(await r.lrange(keys.inprogress('default', 'live-1'), 0, -1)).toEqual(LIVE_JOBS);

    const dead = await r.zrange(keys.dead, 0, -1);
    expect(dead).toHaveLength(1);
    expect(dead[0].startsWith(POISON.slice(0, -1) + ',')).toBe(true);
    expect(dead[0]).toContain('"args":[12345678901234567890123,"x",[],{}]');
    const parsed = JSON.parse(dead[0]);
    expect(parsed.error_class).toBe('Verk::PoisonPill');
    expect(parsed.error_message).toContain('recovered 4 times');
    expect(await r.get(keys.recovered('p1'))).toBe('4');
    expect(await r.get(keys.recovered('d1'))).toBe('2');
    expect(await r.get(keys.recovered('d2'))).toBe('1');

    const history = (await r.lrange(keys.recoveries, 0, -1)).map((e) => JSON.parse(e));
    expect(history.length).toBe(3); // 12 jobs in batches of 4
    expect(history.every((e) => e.by === `cli:${os.hostname()}` && e.node === 'dead-1')).toBe(true);
    expect(history.reduce((a, e) => a + e.moved, 0)).toBe(11);

    const again = await run(['requeue-dead']);
    expect(again.stdout).toBe('no dead nodes: nothing to requeue');
  });

  it('prints one line per node', async () => {
    const res = await run(['requeue-dead']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toBe('node dead-1: 11 jobs requeued, 1 job sent to dead (poison pill); deregistered');
  });

  it('--node leaves a live node alone and says so; an unknown node is not registered', async () => {
    const before = await snapshot(server.client);
    const alive = JSON.parse((await run(['requeue-dead', '--node', 'live-1', '--json'])).stdout);
    expect(alive.nodes).toEqual([{ node: 'live-1', status: 'alive', requeued: 0, dead: 0, remaining: 0 }]);
    const unknown = await run(['requeue-dead', '--node', 'nope']);
    expect(unknown.stdout).toContain('node nope is not registered');
    expect(await snapshot(server.client)).toEqual(before);
  });

  it('--node on the dead node reaps only it', async () => {
    await fabricateNode(server.client, keys, { id: 'dead-2', inprogress: { default: [job('x1')] } });
    const out = JSON.parse((await run(['requeue-dead', '--node', 'dead-1', '--json'])).stdout);
    expect(out.nodes.map((n: { node: string }) => n.node)).toEqual(['dead-1']);
    expect(await server.client.sismember(keys.nodes, 'dead-2')).toBe(1);
    expect(await server.client.llen(keys.inprogress('default', 'dead-2'))).toBe(1);
  });
});
