// The Redis Cluster layout end to end (docs/redis-cluster.md), real processes on a real 3-master
// cluster: three queues whose worlds live on three different masters, three `verk work` nodes
// working all three, a producer writing through a redis+cluster:// URL. Shows that each world's
// keys stay on its master, that the dynamic-node chaos of the single-Redis layout (kill -9 of
// nodes mid-run, a node frozen past its TTL) loses nothing there either, that a master's
// failover to its replica is survived, and that the operator commands run per shard. The fixture
// handlers record what ran in a separate plain redis-server (the ledger), not in the cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/api/client.js';
import { freezePastTtl } from '../helpers/chaos.js';
import { signalGroup, startWorker, verk } from '../helpers/cli.js';
import { queuesOnDistinctMasters, startCluster, type ClusterRig } from '../helpers/cluster-rig.js';
import { doneCount, executions, FIXTURE_JOBS, intervalArgs, TEST_INTERVALS } from '../helpers/e2e.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

let rig: ClusterRig;
let ledger: RedisServer;
let queues: string[];
let client: Client;
const NODE_TTL = TEST_INTERVALS.nodeTtlMs;
const REAPER = TEST_INTERVALS.reaperMs;

beforeAll(async () => {
  [rig, ledger] = await Promise.all([startCluster({ masters: 3, replicasPerMaster: 1 }), startRedis()]);
  queues = await queuesOnDistinctMasters(rig, 3);
  client = new Client({ redisUrl: rig.url });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await Promise.all([rig?.stop(), ledger?.stop()]);
});

type Worker = ReturnType<typeof startWorker>;
const workers: Worker[] = [];
function start(extra: string[] = []): Worker {
  const args = [
    ...intervalArgs(),
    '--redis-url',
    rig.url,
    '--handlers',
    FIXTURE_JOBS,
    '--log-format',
    'json',
    '--scheduler-interval',
    '100ms',
    '--shutdown-timeout',
    '2s',
  ];
  const w = startWorker([...args, '--queues', queues.map((q) => `${q}:5`).join(','), '--processes', '1', ...extra], { env: { TEST_REDIS_URL: ledger.url } });
  workers.push(w);
  return w;
}
async function stopAll(): Promise<void> {
  for (const w of workers.splice(0)) {
    signalGroup(w.pid!, 'SIGTERM');
    await w.catch(() => undefined);
  }
}

/**
 * Jobs spread evenly over the three queues; returns their jids. Retried as a producer would: a
 * write on a connection to a master that failed over earlier fails once (MOVED inside the MULTI:
 * EXECABORT, nothing written) and the connection finds the new master.
 */
async function enqueue(n: number, sleepMs: number): Promise<string[]> {
  const jobs = Array.from({ length: n }, (_, i) => ({ class: 'Count', queue: queues[i % 3], args: [{ sleepMs }] }));
  let failures = 0;
  const jids = await waitFor(() => client.enqueueBulk(jobs).catch(() => void failures++), { what: 'the enqueue', timeoutMs: 20_000, intervalMs: 100 });
  if (failures) console.log(`[measured] enqueue after an earlier failover: ${failures} failed attempt(s) before it went through`);
  return jids;
}

/** How many of `jids` the fixture handlers completed. */
async function doneOf(jids: string[]): Promise<number> {
  const marks = await ledger.client.hmget('test:done', ...jids);
  return marks.filter(Boolean).length;
}

/**
 * The start of a master-fault scenario: N jobs enqueued (replicated before anything else, so a
 * fault can undo only what happens after), three nodes working, a quarter done. Returns the jids,
 * the victim queue's master and its replica.
 */
async function midRun(N: number, victimQueue: string): Promise<{ jids: string[]; ws: Worker[]; oldMaster: number; replica: number }> {
  await ledger.client.del('test:execs', 'test:done', 'test:started', 'test:pid');
  const jids = await enqueue(N, 20);
  const oldMaster = await rig.masterPortFor(victimQueue);
  // The default durability: what a failover can undo is what the replica had not received (docs/redis-ha.md).
  await rig.client(oldMaster).call('WAIT', '1', '2000');
  const ws = [start(), start(), start()];
  await waitFor(async () => (await doneCount(ledger.client)) >= N / 4, { what: 'a quarter of the jobs', timeoutMs: 60_000 });
  const [replica] = await rig.replicasOf(oldMaster);
  return { jids, ws, oldMaster, replica };
}

/** Waits until more jobs of queue number `nth` complete (its world works again); returns when, in ms since `at`. */
async function resumed(jids: string[], nth: number, at: number): Promise<number> {
  const mine = jids.filter((_, i) => i % 3 === nth);
  const before = await doneOf(mine);
  await waitFor(async () => (await doneOf(mine)) > before + 10, { what: `jobs of {${queues[nth]}} completing again`, timeoutMs: 30_000, intervalMs: 20 });
  return Date.now() - at;
}

function summarize(ex: Map<string, number>, jids: string[]) {
  return { lost: jids.filter((j) => !ex.has(j)).length, duplicates: [...ex.values()].reduce((n, c) => n + (c - 1), 0) };
}

/** Per world: the node ids whose supervisor is the given `verk work` process. */
async function nodesOf(supervisorPid: number): Promise<{ q: string; id: string }[]> {
  const out: { q: string; id: string }[] = [];
  for (const q of queues) {
    const c = rig.client(await rig.masterPortFor(q));
    for (const id of await c.smembers(`{${q}}:verk_nodes`)) {
      if ((await c.hget(`{${q}}:verk:node:${id}:info`, 'supervisor_pid')) === String(supervisorPid)) out.push({ q, id });
    }
  }
  return out;
}

/** Whether a node is still registered in its world. */
async function registered(n: { q: string; id: string }): Promise<boolean> {
  return (await rig.client(await rig.masterPortFor(n.q)).sismember(`{${n.q}}:verk_nodes`, n.id)) === 1;
}

/** Recovery events of every world (each on its own master). */
async function recoveries(): Promise<{ node: string; moved: number }[]> {
  const out: { node: string; moved: number }[] = [];
  for (const q of queues) {
    const port = await rig.masterPortFor(q);
    for (const e of await rig.client(port).lrange(`{${q}}:verk:recoveries`, 0, -1)) out.push(JSON.parse(e));
  }
  return out;
}

describe('Redis Cluster layout (3 masters, real processes)', () => {
  it("keeps each queue's keys on its own master; kill -9 of nodes mid-run and a node frozen past its TTL lose nothing", async () => {
    const N = 1500;
    const jids = await enqueue(N, 30);
    // Every world's keys are on the master of its slot (and its replica), nowhere else (SCAN is not redirected).
    for (const q of queues) {
      const port = await rig.masterPortFor(q);
      expect(await rig.client(port).llen(`{${q}}:queue:${q}`)).toBe(N / 3);
      const own = new Set([port, ...(await rig.replicasOf(port))]);
      for (const n of rig.nodes.filter((x) => !own.has(x.port))) {
        const [, keys] = await rig.client(n.port).scan('0', 'MATCH', `{${q}}:*`, 'COUNT', 10_000);
        expect(keys, `keys of {${q}} on node ${n.port}`).toEqual([]);
      }
    }
    const ws = [start(), start(), start()];
    try {
      await waitFor(async () => (await doneCount(ledger.client)) >= N / 5, { what: 'a fifth of the jobs', timeoutMs: 60_000 });
      const victim = await nodesOf(ws[0].pid!);
      expect(victim.map((n) => n.q).sort()).toEqual([...queues].sort()); // a node in each of its three worlds
      signalGroup(ws[0].pid!, 'SIGKILL');
      const killedAt = Date.now();
      await ws[0].catch(() => undefined);
      ws[0] = start();
      // The victim's lease expires in each of its three worlds; every world's reaper gives its jobs back.
      await waitFor(async () => (await Promise.all(victim.map(registered))).every((r) => !r), {
        what: 'the victim reaped in all three worlds',
        timeoutMs: 15_000,
        intervalMs: 20,
      });
      const recoveryMs = Date.now() - killedAt;
      await waitFor(async () => (await doneCount(ledger.client)) >= (3 * N) / 5, { what: 'three fifths of the jobs', timeoutMs: 60_000 });
      const frozenMs = await freezePastTtl(ws[1].pid!);
      await waitFor(async () => (await doneOf(jids)) === N, { what: 'all jobs', timeoutMs: 90_000 });
      const { lost, duplicates } = summarize(await executions(ledger.client), jids);
      const events = await recoveries();
      const recovered = events.reduce((n, e) => n + e.moved, 0);
      console.log(
        `[measured] cluster layout, 3 masters, 3 queues, ${N} jobs: kill -9 of 1 of 3 nodes and a freeze of ${frozenMs} ms: lost ${lost}, duplicates ${duplicates}, recovered ${recovered} in ${events.length} events (per world), recovery of the killed node in all 3 worlds ${recoveryMs} ms (bound ${NODE_TTL + REAPER * 1.2 + 1000} ms)`,
      );
      expect(lost).toBe(0);
      expect(duplicates).toBeLessThanOrEqual(recovered);
      expect(recoveryMs).toBeLessThanOrEqual(NODE_TTL + REAPER * 1.2 + 1000);
      // Nothing left in progress anywhere once the queues are drained.
      for (const q of queues) {
        const port = await rig.masterPortFor(q);
        const left = await rig.client(port).keys(`{${q}}:inprogress:*`);
        const held = await Promise.all(left.map((k) => rig.client(port).llen(k)));
        expect(held.reduce((a, b) => a + b, 0)).toBe(0);
      }
    } finally {
      await stopAll();
    }
  }, 240_000);

  it('a master fails over to its replica mid-run: every node fetches again from the new master, nothing is lost that was acknowledged and replicated', async () => {
    const N = 900;
    const victimQueue = queues[0];
    try {
      const { jids, oldMaster, replica } = await midRun(N, victimQueue);
      const at = Date.now();
      await rig.failover(replica);
      expect(await rig.masterPortFor(victimQueue)).toBe(replica);
      const resumeMs = await resumed(jids, 0, at);
      await waitFor(async () => (await doneOf(jids)) === N, { what: 'all jobs', timeoutMs: 90_000 });
      const { lost, duplicates } = summarize(await executions(ledger.client), jids);
      console.log(
        `[measured] cluster layout, manual failover of the master of {${victimQueue}} (${oldMaster} → ${replica}) mid-run, ${N} jobs: lost ${lost}, duplicates ${duplicates}, jobs of that queue completing again ${resumeMs} ms after the failover began`,
      );
      expect(lost).toBe(0);
    } finally {
      await stopAll();
    }
  }, 240_000);

  it('kill -9 of a master mid-run: its replica is promoted, every node works that queue again, no node stuck', async () => {
    const N = 900;
    const victimQueue = queues[1];
    let killed = 0;
    try {
      const { jids, ws, oldMaster, replica } = await midRun(N, victimQueue);
      const others = jids.filter((_, i) => i % 3 !== 1);
      const othersAtKill = await doneOf(others);
      const at = Date.now();
      killed = oldMaster;
      await rig.kill(oldMaster, 'SIGKILL');
      await waitFor(async () => ((await rig.masterPortFor(victimQueue).catch(() => 0)) === replica ? true : undefined), {
        what: `the replica ${replica} promoted`,
        timeoutMs: 30_000,
        intervalMs: 50,
      });
      const promoteMs = Date.now() - at;
      // The other worlds do not wait for this one: their jobs kept completing during the election.
      const othersDuring = (await doneOf(others)) - othersAtKill;
      const resumeMs = await resumed(jids, 1, at);
      await waitFor(async () => (await doneOf(jids)) === N, { what: 'all jobs', timeoutMs: 90_000 });
      const { lost, duplicates } = summarize(await executions(ledger.client), jids);
      // No process is stuck: each has a live node (lease key present) in every world. A node may
      // have fenced itself meanwhile (the outage outlasted the test's 1.5 s TTL) and been replaced.
      const liveWorlds = async (pid: number) => {
        const live = new Set<string>();
        for (const n of await nodesOf(pid)) if (await rig.client(await rig.masterPortFor(n.q)).exists(`{${n.q}}:verk:node:${n.id}`)) live.add(n.q);
        return live.size;
      };
      const alive = await waitFor(
        async () => {
          const counts = await Promise.all(ws.map((w) => liveWorlds(w.pid!)));
          return counts.every((c) => c === 3) ? counts : undefined;
        },
        { what: 'a live node of every process in every world', timeoutMs: 15_000 },
      );
      console.log(
        `[measured] cluster layout, kill -9 of the master of {${victimQueue}} (${oldMaster}, replica ${replica}) mid-run, ${N} jobs (enqueue replicated): lost ${lost}, duplicates ${duplicates}, replica promoted after ${promoteMs} ms, jobs of that queue completing again after ${resumeMs} ms, jobs of the other two queues completed during the election ${othersDuring}, worlds with a live node per process ${alive.join('/')}`,
      );
      expect(lost).toBe(0);
      expect(alive).toEqual([3, 3, 3]);
      expect(othersDuring).toBeGreaterThan(0);
    } finally {
      await stopAll();
      if (killed) await rig.restart(killed);
    }
  }, 240_000);

  it('the web dashboard is refused in the cluster layout with a message (it reads one Redis)', async () => {
    const web = await verk(['web', '--port', '0', '--redis-url', rig.url]);
    expect(web.exitCode).toBe(78);
    expect(web.stderr).toMatch(/not available in the Redis Cluster layout/);
    const work = await verk(['work', '--web-port', String(await freePort()), '--queues', `${queues[0]}:1`, '--handlers', FIXTURE_JOBS, '--redis-url', rig.url]);
    expect(work.exitCode).toBe(78);
    expect(work.stderr).toMatch(/not available in the Redis Cluster layout/);
  });

  it('operator commands run per shard (nodes, queues, stats, dead requeue); /readyz and /metrics cover every world', async () => {
    const healthPort = await freePort();
    start(['--health-port', String(healthPort)]);
    start();
    try {
      const nodesJson = async () =>
        JSON.parse((await verk(['nodes', '--json', '--redis-url', rig.url])).stdout).shards as Record<string, { nodes: { alive: boolean }[] }>;
      const shards = await waitFor(
        async () => {
          const s = await nodesJson();
          return queues.every((q) => s[q]?.nodes.filter((n) => n.alive).length === 2) ? s : undefined;
        },
        { what: 'two live nodes in every world', timeoutMs: 20_000 },
      );
      expect(Object.keys(shards).sort()).toEqual([...queues].sort());
      const human = (await verk(['queues', '--redis-url', rig.url])).stdout;
      for (const q of queues) expect(human).toContain(`── shard {${q}} ──`);
      // A write command runs in each world too: a dead job of each queue, requeued by one command.
      for (const q of queues) {
        const c = rig.client(await rig.masterPortFor(q));
        await c.zadd(`{${q}}:dead`, Date.now() / 1000, JSON.stringify({ class: 'Count', queue: q, args: [], jid: `dead-${q}`, retry_count: 1 }));
      }
      const stats = JSON.parse((await verk(['stats', '--json', '--redis-url', rig.url])).stdout).shards;
      for (const q of queues) expect(stats[q]?.dead, `dead in {${q}}`).toBe(1);
      const retried = await verk(['dead', 'requeue', '--all', '--redis-url', rig.url]);
      expect(retried.exitCode, retried.stderr).toBe(0);
      await waitFor(async () => ((await doneOf(queues.map((q) => `dead-${q}`))) === 3 ? true : undefined), { what: 'the three dead jobs run again', timeoutMs: 20_000 });
      // A command about one job finds it in its world; the other worlds say it is not theirs, and it succeeds.
      const lone = `lone-${queues[1]}`;
      await rig
        .client(await rig.masterPortFor(queues[1]))
        .zadd(`{${queues[1]}}:retry`, Date.now() / 1000 + 3600, JSON.stringify({ class: 'Count', queue: queues[1], args: [], jid: lone, retry_count: 1 }));
      const shown = await verk(['show', lone, '--json', '--redis-url', rig.url]);
      expect(shown.exitCode, shown.stderr).toBe(0);
      const perShard = JSON.parse(shown.stdout).shards;
      expect(perShard[queues[1]].matches.map((m: { where: string }) => m.where)).toEqual(['retry']);
      expect(perShard[queues[0]].matches).toEqual([]);
      const missing = await verk(['show', 'no-such-jid', '--redis-url', rig.url]);
      expect(missing.exitCode).toBe(1); // not found in any world: the command fails

      // verk enqueue writes into the queue's world (its connection pinned to that master).
      const enq = await verk(['enqueue', 'Count', '--queue', queues[2], '--redis-url', rig.url, '--handlers', FIXTURE_JOBS]);
      expect(enq.exitCode, enq.stderr).toBe(0);
      const jid = enq.stdout.trim();
      await waitFor(async () => ((await doneOf([jid])) === 1 ? true : undefined), { what: `the job enqueued into {${queues[2]}} to run`, timeoutMs: 20_000 });
      // The health server of a node in three worlds: ready when every world's connection answers;
      // the gauges count each world's worker process once with its own queue's concurrency.
      const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
      expect(ready.status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
      const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
      expect(gauge('verk_worker_processes')).toBe(3);
      expect(gauge('verk_worker_processes_wanted')).toBe(3);
      expect(gauge('verk_concurrency')).toBe(15); // 3 worlds × 1 process × 5
      for (const q of queues) expect(metrics).toContain(`verk_queue_size{queue="${q}"}`);
    } finally {
      await stopAll();
    }
  }, 120_000);
});
