// Dynamic node set end to end, with real processes and real signals: kill -9 of a whole
// `verk work` node mid-run, a worker process that calls process.exit, a poison pill, and a
// Redis restart (AOF) mid-run. Each test prints what it measured: lost, duplicates, timings.
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { startWorker, signalGroup } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { executions, doneCount, workArgs, workEnv, liveNodes, TEST_INTERVALS, usePrivateRedis } from '../helpers/e2e.js';
import type { Client } from '../../src/api/client.js';

let server: RedisServer;
let client: Client;
const NODE_TTL = TEST_INTERVALS.nodeTtlMs;
const REAPER = TEST_INTERVALS.reaperMs;
usePrivateRedis((s, c) => ([server, client] = [s, c]), { appendonly: true });

type Worker = ReturnType<typeof startWorker>;
const workers: Worker[] = [];
function start(args: string[]): Worker {
  const w = startWorker(workArgs(server, args), { env: workEnv(server) });
  workers.push(w);
  return w;
}
async function stopAll(): Promise<void> {
  for (const w of workers.splice(0)) {
    signalGroup(w.pid!, 'SIGTERM');
    await w;
  }
}

/** Node ids whose supervisor is the given `verk work` process. */
async function nodesOf(supervisorPid: number): Promise<string[]> {
  const out: string[] = [];
  for (const id of await server.client.smembers('verk_nodes')) {
    if ((await server.client.hget(`verk:node:${id}:info`, 'supervisor_pid')) === String(supervisorPid)) out.push(id);
  }
  return out;
}

function summarize(ex: Map<string, number>, jids: string[]) {
  const lost = jids.filter((j) => !ex.has(j)).length;
  const duplicates = [...ex.values()].reduce((n, c) => n + (c - 1), 0);
  return { lost, duplicates };
}

describe('dynamic node set', () => {
  it('kill -9 of one of 3 nodes mid-run: every job completes, recovery within nodeTtl + reaperInterval + 1s', async () => {
    const N = 3000;
    const jids = await client.enqueueBulk(Array.from({ length: N }, () => ({ class: 'Count', args: [{ sleepMs: 40 }] })));
    const ws = [0, 1, 2].map(() => start(['--queues', 'default:10', '--processes', '1']));
    try {
      await waitFor(async () => (await doneCount(server.client)) >= N / 4, { what: 'a quarter of the jobs', timeoutMs: 30_000 });
      const victim = ws[1];
      const [victimNode] = await nodesOf(victim.pid!);
      signalGroup(victim.pid!, 'SIGKILL');
      const killedAt = Date.now();
      await victim;
      await waitFor(async () => !(await server.client.sismember('verk_nodes', victimNode)), { what: 'the dead node to be reaped', timeoutMs: 10_000, intervalMs: 10 });
      const recoveryMs = Date.now() - killedAt;
      await waitFor(async () => (await doneCount(server.client)) === N, { what: 'all jobs', timeoutMs: 60_000 });
      const { lost, duplicates } = summarize(await executions(server.client), jids);
      const events = (await server.client.lrange('verk:recoveries', 0, -1)).map((e) => JSON.parse(e));
      const event = events.find((e) => e.node === victimNode);
      // Under load a live node may also miss its TTL and be reaped (and fenced): its interrupted
      // jobs run twice too, so duplicates are bounded by everything recovered, not by the victim's.
      const recovered = events.reduce((n, e) => n + e.moved, 0);
      console.log(
        `[measured] kill -9 of 1 of 3 nodes, ${N} jobs: recovered ${event?.moved} from the victim (${recovered} in ${events.length} events), lost ${lost}, duplicates ${duplicates}, recovery ${recoveryMs} ms (bound ${NODE_TTL + REAPER + 1000} ms)`,
      );
      expect(lost).toBe(0);
      expect(duplicates).toBeLessThanOrEqual(recovered);
      expect(recoveryMs).toBeLessThanOrEqual(NODE_TTL + REAPER * 1.2 + 1000);
      expect(event).toMatchObject({ node: victimNode });
      expect(await server.client.keys(`inprogress:*:${victimNode}`)).toEqual([]);
    } finally {
      await stopAll();
    }
  });

  it('a handler that calls process.exit(1): its jobs are back within 1s and the process is replaced', async () => {
    const others = await client.enqueueBulk(Array.from({ length: 4 }, () => ({ class: 'Count', args: [{ sleepMs: 400 }] })));
    start(['--queues', 'default:5', '--processes', '1']);
    try {
      const [first] = await waitFor(() => liveNodes(server.client).then((n) => (n.length ? n : null)), { what: 'a live node' });
      await waitFor(async () => (await server.client.llen(`inprogress:default:${first}`)) === 4, { what: 'the slow jobs to start' });
      const exitJid = await client.enqueue({ class: 'ExitOnce', args: [] });
      const [event] = await waitFor(
        async () => {
          const events = (await server.client.lrange('verk:recoveries', 0, -1)).map((e) => JSON.parse(e));
          return events.length ? events : null;
        },
        { what: 'the hand-back event' },
      );
      const handBackMs = event.at * 1000 - Number(await server.client.get('test:exit-at'));
      const [second] = await waitFor(() => liveNodes(server.client).then((n) => (n.length && n[0] !== first ? n : null)), { what: 'a replacement node' });
      await waitFor(async () => (await doneCount(server.client)) === 5, { what: 'all 5 jobs', timeoutMs: 15_000 });
      const ex = await executions(server.client);
      console.log(
        `[measured] process.exit(1): ${event.moved} jobs handed back ${Math.round(handBackMs)} ms after the exit; node ${first} replaced by ${second}; executions per jid ${JSON.stringify([...ex.values()])}`,
      );
      expect(event).toMatchObject({ node: first, moved: 5 });
      expect(handBackMs).toBeLessThan(1000);
      expect(second).not.toBe(first);
      expect(await server.client.sismember('verk_nodes', first)).toBe(0);
      for (const j of [...others, exitJid]) expect(ex.get(j)).toBe(1);
    } finally {
      await stopAll();
    }
  });

  it('a poison pill that kills its worker every time ends in dead after maxRecoveries; other jobs are unaffected', async () => {
    // Two slow jobs are fetched together with the pill, so they die with it the first times:
    // once recovered twice they are all run alone, the pill dies alone, the others succeed.
    const neighbours = await client.enqueueBulk([0, 1].map(() => ({ class: 'Count', args: [{ sleepMs: 300 }] })));
    const poison = await client.enqueue({ class: 'Poison', args: [[], {}, 12345678901234567890] as unknown[], argsJson: '[[],{},12345678901234567890]' });
    const good = await client.enqueueBulk(Array.from({ length: 30 }, () => ({ class: 'Count', args: [{ sleepMs: 5 }] })));
    start(['--queues', 'default:3', '--processes', '1', '--max-recoveries', '2']);
    try {
      const [dead] = await waitFor(() => server.client.zrange('dead', 0, -1).then((d) => (d.length ? d : null)), { what: 'the poison pill in dead', timeoutMs: 30_000 });
      await waitFor(async () => (await doneCount(server.client)) === 32, { what: 'the other jobs', timeoutMs: 30_000 });
      const runs = Number(await server.client.hget('test:poison-runs', poison));
      const parsed = JSON.parse(dead);
      const neighbourRecoveries = await Promise.all(neighbours.map((j) => server.client.get(`verk:recovered:${j}`)));
      console.log(
        `[measured] poison pill: ran ${runs} times, then dead (${parsed.error_message}); neighbours recovered ${neighbourRecoveries.join('/')} times and completed; other jobs 30/30 done`,
      );
      expect(parsed).toMatchObject({ jid: poison, class: 'Poison', error_class: 'Verk::PoisonPill' });
      expect(dead).toContain('"args":[[],{},12345678901234567890]');
      // Only witnessed starts count (verk_recovered start records): maxRecoveries + 1 counted runs,
      // plus the first run, which nothing may have seen start.
      expect(runs).toBeGreaterThanOrEqual(3);
      expect(runs).toBeLessThanOrEqual(4);
      expect(await server.client.zcard('dead')).toBe(1);
      const ex = await executions(server.client);
      for (const j of [...neighbours, ...good]) expect(ex.get(j)).toBe(1);
      expect(await server.client.llen('queue:default')).toBe(0);
    } finally {
      await stopAll();
    }
  });

  it('a worker process whose event loop hangs past hangTimeout is killed, replaced, and its jobs handed back', async () => {
    const jid = await client.enqueue({ class: 'Hang', args: [20_000] });
    const neighbour = await client.enqueue({ class: 'Count', args: [{ sleepMs: 100 }] });
    start(['--queues', 'default:2', '--processes', '1', '--hang-timeout', '1s']);
    try {
      const [first] = await waitFor(() => liveNodes(server.client).then((n) => (n.length ? n : null)), { what: 'a live node' });
      const hungAt = Date.now();
      const [event] = await waitFor(
        async () => {
          const events = (await server.client.lrange('verk:recoveries', 0, -1)).map((e) => JSON.parse(e));
          return events.length ? events : null;
        },
        { what: 'the hung process to be killed and its jobs handed back', timeoutMs: 10_000 },
      );
      await waitFor(async () => (await doneCount(server.client)) === 2, { what: 'both jobs to complete', timeoutMs: 15_000 });
      console.log(`[measured] hung event loop: process killed and ${event.moved} jobs handed back ${Date.now() - hungAt} ms after start (hangTimeout 1s)`);
      expect(event.node).toBe(first);
      expect((await executions(server.client)).get(jid)).toBe(1);
      expect(await server.client.sismember('verk_nodes', first)).toBe(0);
      expect(neighbour).toBeDefined();
    } finally {
      await stopAll();
    }
  });

  it('when the supervisor alone is killed, its worker processes hand their jobs back and exit', async () => {
    const jids = await client.enqueueBulk(Array.from({ length: 6 }, () => ({ class: 'Count', args: [{ sleepMs: 5000 }] })));
    const w = start(['--queues', 'default:3', '--processes', '2']);
    const nodes = await waitFor(() => liveNodes(server.client).then((n) => (n.length === 2 ? n : null)), { what: 'two live nodes' });
    await waitFor(async () => (await server.client.llen('queue:default')) === 0, { what: 'all 6 jobs fetched' });
    const pids = await Promise.all(
      nodes.map(async (id) =>
        Number(await waitFor(() => server.client.hget(`verk:node:${id}:info`, 'pid').then((p) => (p && p !== '0' ? p : null)), { what: 'worker pids' })),
      ),
    );
    process.kill(w.pid!, 'SIGKILL'); // the supervisor only, not its process group
    const killedAt = Date.now();
    await waitFor(
      () =>
        pids.every((pid) => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        }),
      { what: 'the orphaned worker processes to exit', timeoutMs: 10_000 },
    );
    const exitMs = Date.now() - killedAt;
    const queued = await server.client.llen('queue:default');
    console.log(`[measured] supervisor killed: both worker processes exited ${exitMs} ms later, ${queued}/6 jobs already back in the queue`);
    expect(queued).toBe(6);
    expect(new Set((await server.client.lrange('queue:default', 0, -1)).map((p) => JSON.parse(p).jid))).toEqual(new Set(jids));
    await stopAll();
  });

  it('Redis restarted (AOF) mid-run: workers reconnect and no job is lost', async () => {
    const N = 2000;
    const jids = await client.enqueueBulk(Array.from({ length: N }, () => ({ class: 'Count', args: [{ sleepMs: 2 }] })));
    start(['--queues', 'default:10', '--processes', '2']);
    try {
      await waitFor(async () => (await doneCount(server.client)) >= N / 4, { what: 'a quarter of the jobs', timeoutMs: 30_000 });
      const before = await doneCount(server.client);
      const t0 = Date.now();
      await server.restart();
      const restartMs = Date.now() - t0;
      await waitFor(async () => (await doneCount(server.client).catch(() => 0)) === N, { what: 'all jobs after the restart', timeoutMs: 60_000 });
      const { lost, duplicates } = summarize(await executions(server.client), jids);
      console.log(`[measured] Redis restart after ${before}/${N} jobs (down ${restartMs} ms): lost ${lost}, duplicates ${duplicates}`);
      expect(lost).toBe(0);
      await waitFor(async () => (await server.client.keys('inprogress:*').then((ks) => Promise.all(ks.map((k) => server.client.llen(k))))).every((n) => n === 0), {
        what: 'empty in-progress lists',
      });
      expect(await server.client.llen('queue:default')).toBe(0);
    } finally {
      await stopAll();
    }
  });
});
