// Reconcile after a failover, shown with real processes (issue 16 item 3): a primary, a replica
// whose replication stream runs through a TCP proxy (test/helpers/sentinel-rig.ts, replicaLink
// 'proxy'), three Sentinels, one `verk work` with one queue of one slot. A job runs, another
// waits in the queue; the replica has all of that. Then the stream is frozen: the running job
// finishes and its ack fetches the waiting one, on the primary only. SENTINEL FAILOVER promotes
// the replica, which shows the job the node is running as queued. The node's reconcile must take
// it back (lua/reclaim-3.lua) before anything fetches it again, though its only slot is busy:
// each job runs once, nothing is lost, and the reclaim is counted in verk_redis_events_total{event="reclaimed"}.
// Planted beside it: the in-progress list of a verk node that is gone (the timeline says it joined;
// neither registered nor alive), which no reaper visits: the supervisor's pass on the new server
// hands it back (verk_failover_repairs_total{repair="orphaned"}) and its job runs once. And a
// second `verk work` (another queue) starts while the stream is frozen: the new primary never got
// its registration; its supervisor registers it again (repair "reregistered"), it is not fenced,
// and it runs a job enqueued after the failover.
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/redis-server.js';
import { sentinelMissing } from '../helpers/sentinel-rig.js';
import { startWorker } from '../helpers/cli.js';
import { logLines, stopWorker } from '../helpers/fault-kit.js';
import { haWorkerArgs, useHaRig } from '../helpers/ha-kit.js';
import { ledger } from '../helpers/ledger.js';
import { executions } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';
import { Client } from '../../src/api/client.js';

const missing = sentinelMissing();
if (missing) console.log(`[skipped] failover reclaim: ${missing}`);

/** The first job: long enough to enqueue the next one and check the replica behind it. */
const FIRST_MS = 2_500;
/** The job fetched while the stream is frozen: still running when the failover is over. */
const SECOND_MS = 6_000;
/** WAIT's bound: the first job's ack confirmation outlasts the failover (3 attempts ≈ 3 × this). */
const DURABILITY_TIMEOUT_MS = 2_000;

/** Sums a counter over the lines of a /metrics text: `name{label="value"} n`. */
function metric(text: string, series: string): number {
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) n += Number(line.slice(series.length + 1));
  return n;
}

describe.skipIf(missing !== undefined)('failover through Sentinel: the reclaim (real processes)', () => {
  const ha = useHaRig({ replicaLink: 'proxy' });
  const { started } = ha;

  it('a node whose fetch the new primary never got takes its running jobs back: each runs once', async () => {
    const healthPort = await freePort();
    const worker = startWorker(
      haWorkerArgs(ha.rig.url, {
        queues: 'default:1',
        nodeTtl: '15s',
        commandTimeout: '4s',
        // The first job's ack is confirmed (or redone on the new primary), so only a reclaim decides.
        durability: 'replicated',
        durabilityTimeoutMs: DURABILITY_TIMEOUT_MS,
        healthPort,
      }),
      { env: { TEST_REDIS_URL: ha.record.url, HA_NODE: 'n0' } },
    );
    started.push(worker);
    const client = new Client({ redisUrl: ha.rig.url });
    try {
      const old = await ha.rig.primary();
      const [node] = await waitFor(
        async () => {
          const ids = await old.client.smembers('verk_nodes');
          return ids.length === 1 ? ids : null;
        },
        { what: 'the node registered', timeoutMs: 30_000 },
      );
      const held = `inprogress:default:${node}`;
      const jidsIn = async (redis: typeof old.client, key: string) => (await redis.lrange(key, 0, -1)).map((r) => (JSON.parse(r) as { jid: string }).jid).sort();
      const first = [await client.enqueue({ class: 'Append', args: [{ sleepMs: FIRST_MS }] })];
      await waitFor(async () => (await old.client.llen(held)) === 1, { what: 'the first job running', timeoutMs: 20_000 });
      const second = [await client.enqueue({ class: 'Append', args: [{ sleepMs: SECOND_MS }] })];
      // Waiting for the second node, which fetches it while the stream is frozen.
      const early = await client.enqueue({ class: 'Append', queue: 'other', args: [{ sleepMs: SECOND_MS }] });
      const orphan = 'orphan-1';
      const orphanList = 'inprogress:default:gone-1';
      await old.client.rpush(
        orphanList,
        JSON.stringify({ class: 'Append', args: [{ sleepMs: 0 }], jid: orphan, queue: 'default', retry: true, created_at: Date.now() / 1000 }),
      );
      await old.client.lpush('verk:events', JSON.stringify({ at: Date.now(), kind: 'joined', node: 'gone-1', identity: 'elsewhere:1:x', detail: '' }));
      await ha.rig.inSync();
      ha.rig.link!.freeze();
      const health2 = await freePort();
      const opts2 = {
        queues: 'other:1',
        nodeTtl: '15s',
        commandTimeout: '4s',
        durability: 'default',
        durabilityTimeoutMs: DURABILITY_TIMEOUT_MS,
        healthPort: health2,
      } as const;
      started.push(startWorker(haWorkerArgs(ha.rig.url, opts2), { env: { TEST_REDIS_URL: ha.record.url, HA_NODE: 'n1' } }));
      // The first job finishes; its ack fetches the second one: on the primary only.
      await waitFor(async () => (await jidsIn(old.client, held)).join() === [...second].sort().join() && (await old.client.llen('queue:default')) === 0, {
        what: 'the second job fetched while the stream is frozen',
        timeoutMs: 20_000,
        intervalMs: 20,
      });
      const node2 = await waitFor(async () => (await old.client.smembers('verk_nodes')).find((id) => id !== node), {
        what: 'the second node registered (on the primary only)',
        timeoutMs: 20_000,
      });
      const held2 = `inprogress:other:${node2}`;
      await waitFor(async () => (await old.client.llen(held2)) === 1, { what: 'the second node running its job', timeoutMs: 20_000 });
      const replica = await ha.rig.replica();
      expect(await replica.client.sismember('verk_nodes', node2)).toBe(0);
      // What the failover will promote: the first job still held, the second still queued.
      expect(await jidsIn(replica.client, 'queue:default')).toEqual([...second].sort());
      expect(await jidsIn(replica.client, held)).toEqual([...first].sort());
      const t0 = Date.now();
      const { from } = await ha.rig.failover();
      const promotedAt = Date.now();
      await ha.rig.rejoin(from);
      await ha.rig.link!.close();
      const fresh = await ha.rig.primary();
      expect(fresh.port).toBe(replica.port);
      // Every job done, then nothing left anywhere to run again.
      const all = [...first, ...second, orphan, early];
      await waitFor(
        async () => {
          const done = new Set(await ha.record.client.hkeys('test:done'));
          if (!all.every((j) => done.has(j))) return false;
          const [queued, holding] = await Promise.all([fresh.client.llen('queue:default'), fresh.client.llen(held)]);
          return queued === 0 && holding === 0 && (await fresh.client.exists(orphanList, 'queue:other', held2)) === 0;
        },
        { what: 'every job done and nothing queued or held', timeoutMs: 30_000, intervalMs: 100 },
      );
      const metrics = await waitFor(
        async () => {
          const text = await fetch(`http://127.0.0.1:${healthPort}/metrics`).then((r) => r.text());
          return metric(text, 'verk_redis_failovers_total') >= 1 ? text : null;
        },
        { what: 'the supervisor to count the new server', timeoutMs: 10_000, intervalMs: 100 },
      );
      // The second node, registered again on the new primary, takes a job enqueued there.
      const late = await client.enqueue({ class: 'Append', queue: 'other', args: [{}] });
      await waitFor(async () => (await ha.record.client.hexists('test:done', late)) === 1, {
        what: 'the second node running a job after the failover',
        timeoutMs: 20_000,
      });
      const metrics2 = await fetch(`http://127.0.0.1:${health2}/metrics`).then((r) => r.text());
      const reregistered = metric(metrics2, 'verk_failover_repairs_total{repair="reregistered"}');
      // Its job, fetched while the stream was frozen, taken back once it was registered again.
      const reclaimed2 = metric(metrics2, 'verk_redis_events_total{event="reclaimed"}');
      const nodesAfter = await fresh.client.smembers('verk_nodes');
      const fencings = (await fresh.client.lrange('verk:events', 0, -1)).filter((e) => (JSON.parse(e) as { kind: string }).kind === 'fenced');
      const reclaimed = metric(metrics, 'verk_redis_events_total{event="reclaimed"}');
      // Both supervisors run the pass; whichever comes first hands the list back.
      const orphaned = [metrics, metrics2].reduce((n, m) => n + metric(m, 'verk_failover_repairs_total{repair="orphaned"}'), 0);
      const [res, res2] = await Promise.all(started.splice(0).map((w) => stopWorker(w)));
      const took = logLines(res.all, 'took back from the queue running jobs');
      const runs = await executions(ha.record.client);
      const pass = [...logLines(res.all, 'Redis is a new server'), ...logLines(res2.all, 'Redis is a new server')];
      const orphanPass = pass.find((l) => Number(l.orphaned) > 0);
      const f = await ledger(
        'failover reclaim: fetch undone while the node runs the job',
        all,
        { verk: fresh.client, record: ha.record.client },
        {
          // Executions of the job running at the failover, and of the one before it.
          runs_of_running: second.map((j) => runs.get(j) ?? 0).join('+'),
          runs_of_first: first.map((j) => runs.get(j) ?? 0).join('+'),
          reclaimed,
          orphaned,
          runs_of_orphan: runs.get(orphan) ?? 0,
          reclaim_logs: took.length,
          promote_ms: promotedAt - t0,
          // From the Sentinels naming the new primary to the node's reclaim log line.
          reclaim_after_promotion_ms: took.length ? Date.parse(String(took[0].ts)) - promotedAt : 'none',
          // From the promotion to the log line of the pass that handed the planted list back.
          pass_after_promotion_ms: orphanPass ? Date.parse(String(orphanPass.ts)) - promotedAt : 'none',
          failovers_detected: metric(metrics, 'verk_redis_failovers_total'),
          second_node_reregistered: reregistered,
          second_node_reclaimed: reclaimed2,
          fencings: fencings.length ? fencings.join(' ') : 0,
        },
      );
      expect(f.lost).toBe(0);
      expect(f.done).toBe(4);
      expect(f.duplicated).toBe(0);
      expect(reclaimed).toBe(1);
      expect(took.map((l) => l.count)).toEqual([1]);
      expect(orphaned).toBe(1);
      expect(pass).toHaveLength(2);
      expect(pass.reduce((n, l) => n + Number(l.orphaned), 0)).toBe(1);
      expect(reregistered).toBe(1);
      expect(reclaimed2).toBe(1);
      expect(fencings).toEqual([]);
      expect(nodesAfter.sort()).toEqual([node, node2].sort());
    } finally {
      await client.close();
    }
  }, 90_000);
});
