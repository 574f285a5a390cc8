// `verk stuck` on fabricated states: long-running jobs on live nodes from the info hash's
// `running` record (and an Elixir node's in-progress list when it has none), in-progress lists
// no registered node owns, and --requeue-orphans handing those back to the front of their queues
// with a warning that they may be live (a bare --requeue is a usage error).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { verk } from '../helpers/cli.js';
import { fabricateNode, job, redisMs, snapshot } from '../helpers/fabricate.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';

let server: RedisServer;
let cwd: string;
const keys = makeKeys('');
const ORPHAN = [job('o1'), job('o2'), job('o3')];

const run = (args: string[]) => verk([...args, '--redis-url', server.url], { cwd });

beforeAll(async () => {
  server = await startRedis();
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-stuck-'));
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(cwd, { recursive: true, force: true });
});
beforeEach(async () => {
  const r = server.client;
  await r.flushdb();
  const now = await redisMs(r);
  const running = [
    { jid: 'slow1', class: 'Report.Build', queue: 'default', started_at: now - 9 * 60_000 },
    { jid: 'fast1', class: 'Mail.Send', queue: 'mail', started_at: now - 5_000 },
    { jid: 'slow2', class: 'Mail.Send', queue: 'mail', started_at: now - 6 * 60_000 },
  ];
  await fabricateNode(r, keys, {
    id: 'web-1-aaaa',
    ttlMs: 30_000,
    inprogress: { default: [job('slow1')], mail: [job('fast1', { queue: 'mail' }), job('slow2', { queue: 'mail' })] },
    info: { host: 'web-1', beat: now, running: JSON.stringify(running) },
  });
  await fabricateNode(r, keys, { id: 'elixir-7', ttlMs: 30_000, inprogress: { default: [job('ex1', { cls: 'Elixir.Old.Worker' })] } });
  await fabricateNode(r, keys, { id: 'gone-1', inprogress: { default: [job('g1')] }, info: { beat: now - 60_000 } });
  // Left by a fixed-id node that never came back: no registration, no heartbeat, no queue set.
  await r.rpush(keys.inprogress('default', 'fixed-host-0'), ...ORPHAN);
  await r.rpush(keys.inprogress('mail', 'fixed-host-0'), job('o4', { queue: 'mail' }));
  // Left by an idle wait whose connection died between its BLMOVE and its claim script, on a node since reaped.
  await r.rpush(keys.nodeClaim('vm-gone9', 'default'), job('c1'));
  await r.lpush(keys.queue('default'), job('q-old'));
});

describe('verk stuck', () => {
  it('--json lists long-running jobs on live nodes, unowned in-progress lists and dead nodes, and writes nothing', async () => {
    const before = await snapshot(server.client);
    const res = await run(['stuck', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await snapshot(server.client)).toEqual(before);
    const out = JSON.parse(res.stdout);
    expect(out.older_than_ms).toBe(300_000);
    expect(out.queue).toBeNull();
    expect(out.requeued).toBeNull();
    expect(out.warnings).toEqual([]);
    expect(out.jobs.map((j: { jid: string }) => j.jid)).toEqual(['slow1', 'slow2', 'ex1']);
    const [slow1, slow2, ex1] = out.jobs;
    expect(slow1).toMatchObject({ node: 'web-1-aaaa', queue: 'default', class: 'Report.Build', source: 'info' });
    expect(slow1.running_s).toBeGreaterThanOrEqual(540);
    expect(slow1.running_s).toBeLessThan(560);
    expect(Date.parse(slow1.started_at)).toBeGreaterThan(0);
    expect(slow2).toMatchObject({ node: 'web-1-aaaa', queue: 'mail', class: 'Mail.Send' });
    expect(ex1).toEqual({ node: 'elixir-7', queue: 'default', jid: 'ex1', class: 'Elixir.Old.Worker', started_at: null, running_s: null, source: 'inprogress' });
    expect(out.dead_nodes).toEqual(['gone-1']);
    expect(out.orphans).toEqual([
      { key: 'inprogress:default:fixed-host-0', kind: 'inprogress', queue: 'default', node: 'fixed-host-0', jobs: 3, status: 'orphan', requeued: 0 },
      { key: 'inprogress:mail:fixed-host-0', kind: 'inprogress', queue: 'mail', node: 'fixed-host-0', jobs: 1, status: 'orphan', requeued: 0 },
      { key: 'verk:node:vm-gone9:claim:default', kind: 'claim', queue: 'default', node: 'vm-gone9', jobs: 1, status: 'orphan', requeued: 0 },
    ]);
  });

  it('--older-than and --queue filter', async () => {
    const out = JSON.parse((await run(['stuck', '--older-than', '1s', '--queue', 'mail', '--json'])).stdout);
    expect(out.jobs.map((j: { jid: string }) => j.jid)).toEqual(['slow2', 'fast1']);
    expect(out.orphans.map((o: { key: string }) => o.key)).toEqual(['inprogress:mail:fixed-host-0']);
    const bad = await run(['stuck', '--older-than', 'soon']);
    expect(bad.exitCode).toBe(64);
  });

  it('prints tables', async () => {
    const res = await run(['stuck']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^NODE\s+QUEUE\s+CLASS\s+JID\s+RUNNING\s+STARTED$/m);
    expect(res.stdout).toMatch(/^web-1-aaaa\s+default\s+Report\.Build\s+slow1\s+9m 0\ds\s+\d{4}-\d\d-\d\d /m);
    expect(res.stdout).toMatch(/^inprogress:default:fixed-host-0\s+default\s+fixed-host-0\s+3$/m);
    expect(res.stdout).toContain('run with --requeue-orphans to hand them back');
    expect(res.stdout).toContain('fixed-id Elixir verk node');
    expect(res.stderr).toBe('');
  });

  it('a bare --requeue is a usage error (64) that explains the risk, names --requeue-orphans and moves nothing', async () => {
    const before = await snapshot(server.client);
    for (const args of [
      ['stuck', '--requeue'],
      ['stuck', '--requeue', '--json'],
    ]) {
      const res = await run(args);
      expect(res.exitCode).toBe(64);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(/^verk: usage error: --requeue is not accepted/);
      expect(res.stderr).toContain('--requeue-orphans');
      expect(res.stderr).toContain('fixed-id Elixir verk node writes no heartbeat or registry entry');
      expect(res.stderr).toContain('runs those jobs twice');
    }
    expect(await snapshot(server.client)).toEqual(before);
    expect((await run(['stuck', '--help'])).stdout).toContain('--requeue-orphans');
  });

  it('--requeue-orphans in text prints the warning on stderr and the result table on stdout', async () => {
    const res = await run(['stuck', '--requeue-orphans']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toMatch(
      /^verk: warning: in-progress lists that no registered node owns may still be live: a fixed-id Elixir verk node writes no heartbeat or registry entry/,
    );
    expect(res.stderr).toContain('Only requeue them when you know no such node uses these node ids');
    expect(res.stdout).toMatch(/^inprogress:default:fixed-host-0\s+default\s+fixed-host-0\s+3\s+requeued 3$/m);
    expect(res.stdout).toMatch(/^verk:node:vm-gone9:claim:default\s+default\s+vm-gone9\s+1\s+requeued 1$/m);
    expect(res.stdout).toContain('5 jobs handed back to the front of their queues');
    expect(res.stdout).not.toContain('warning');
  });

  it('--requeue-orphans hands unowned lists back to the front of their queues, in order, and touches nothing else', async () => {
    const r = server.client;
    const res = await run(['stuck', '--requeue-orphans', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout);
    expect(out.requeued).toBe(5);
    expect(out.warnings).toHaveLength(1);
    expect(out.warnings[0]).toMatch(/fixed-id Elixir verk node writes no heartbeat or registry entry.*runs those jobs twice/);
    expect(out.orphans.map((o: { status: string; requeued: number }) => [o.status, o.requeued])).toEqual([
      ['moved', 3],
      ['moved', 1],
      ['moved', 1],
    ]);
    expect(await r.lrange(keys.queue('default'), 0, -1)).toEqual([job('q-old'), ...ORPHAN, job('c1')]);
    expect(await r.exists(keys.nodeClaim('vm-gone9', 'default'))).toBe(0);
    expect(await r.lrange(keys.queue('mail'), 0, -1)).toEqual([job('o4', { queue: 'mail' })]);
    expect(await r.exists(keys.inprogress('default', 'fixed-host-0'), keys.inprogress('mail', 'fixed-host-0'))).toBe(0);
    expect(await r.llen(keys.inprogress('default', 'gone-1'))).toBe(1);
    expect(await r.llen(keys.inprogress('default', 'elixir-7'))).toBe(1);
    expect(await r.keys('verk:recovered:*')).toEqual([]);
    const again = JSON.parse((await run(['stuck', '--requeue-orphans', '--json'])).stdout);
    expect(again).toMatchObject({ orphans: [], requeued: 0, warnings: [] });
  });

  it('the requeue-orphan script refuses when the owner registered again or its heartbeat key exists', async () => {
    const r = server.client;
    const scripts = new Scripts(r, keys);
    await r.sadd(keys.nodes, 'fixed-host-0');
    expect(await scripts.requeueOrphan('default', 'fixed-host-0', 100)).toEqual({ status: 'owned', moved: 0, remaining: 3 });
    await r.srem(keys.nodes, 'fixed-host-0');
    await r.set(keys.node('fixed-host-0'), 'alive', 'PX', 10_000);
    expect(await scripts.requeueOrphan('default', 'fixed-host-0', 100)).toEqual({ status: 'alive', moved: 0, remaining: 3 });
    await r.del(keys.node('fixed-host-0'));
    expect(await scripts.requeueOrphan('default', 'fixed-host-0', 2)).toEqual({ status: 'moved', moved: 2, remaining: 1 });
    expect(await scripts.requeueOrphan('default', 'fixed-host-0', 2)).toEqual({ status: 'moved', moved: 1, remaining: 0 });
    expect(await r.lrange(keys.queue('default'), 0, -1)).toEqual([job('q-old'), ...ORPHAN]);
  });
});
