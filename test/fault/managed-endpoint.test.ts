// Fault: a managed endpoint fails over (issue 16 item 1). verk connects through one address (the
// TCP proxy, standing for a DNS name such as ElastiCache's primary endpoint) to A, with B its
// replica. The failover: A's writes paused, B caught up and promoted, the name moved to B, A made
// B's replica. Open connections still reach A and get READONLY; that must drop them so they come
// back through the name to B. Without it the supervisor's connection stays on A for good and its
// heartbeats are refused for ever (every worker process fenced and replaced, the fleet wedged).
// Pass: 0 lost, 0 duplicates, no node fenced, the same nodes back, READONLY counted.
import { afterEach, describe, expect, it } from 'vitest';
import {
  useFaultRig,
  startFaultWorker,
  stopAllWorkers,
  stopWorker,
  enqueueCount,
  waitDone,
  waitLiveNodes,
  doneJobs,
  count,
  logLines,
  expectConserved,
  expectNoFencing,
} from '../helpers/fault-kit.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const rig = useFaultRig({ pair: true });
afterEach(stopAllWorkers);

const JOBS = Number(process.env.FAULT_JOBS ?? 300);

async function replication(redis: { info(section: string): Promise<string> }, field: string): Promise<string | undefined> {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(await redis.info('replication'))?.[1]?.trim();
}

describe('managed endpoint failover (one name, the primary changes behind it)', () => {
  it('READONLY from the old primary drops the connections; they come back to the new one: 0 lost, no fencing', async () => {
    const r = rig();
    const { a, b } = r.pair!;
    // B follows A before the run (a managed replica), fully synced.
    await a.client.config('SET', 'repl-diskless-sync-delay', '0');
    await b.client.replicaof('127.0.0.1', a.port);
    await waitFor(async () => (await replication(b.client, 'master_link_status')) === 'up', { what: 'B linked to A', timeoutMs: 15_000 });
    const jids = await enqueueCount(r, JOBS, 100);
    const health = await freePort();
    const w = startFaultWorker(r, ['--queues', 'default:10', '--processes', '2', '--node-ttl', '6s', '--heartbeat-interval', '500ms', '--health-port', String(health)], {
      VERK_REDIS_COMMAND_TIMEOUT: '5s',
    });
    const before = await waitLiveNodes(r, 2, 20_000);
    await waitDone(r, 50, 30_000, 'the first jobs');
    const doneBefore = await doneJobs(r);
    // The failover, as a managed service does it: no acknowledged write is left behind on A.
    const t0 = Date.now();
    await a.client.call('CLIENT', 'PAUSE', '5000', 'WRITE');
    await waitFor(
      async () => {
        const [mo, ro] = await Promise.all([replication(a.client, 'master_repl_offset'), replication(b.client, 'slave_repl_offset')]);
        return mo !== undefined && mo === ro;
      },
      { what: 'B caught up with A', timeoutMs: 5_000, intervalMs: 10 },
    );
    await b.client.replicaof('NO', 'ONE');
    r.proxy.retarget(b.port);
    await a.client.replicaof('127.0.0.1', b.port);
    await a.client.call('CLIENT', 'UNPAUSE');
    const switched = Date.now() - t0;
    // Progress on B: jobs are acked there again.
    await waitFor(async () => (await doneJobs(r)) > doneBefore + 20, { what: 'jobs done after the failover', timeoutMs: 20_000 });
    const backMs = Date.now() - t0;
    await waitDone(r, JOBS, 60_000).catch(() => undefined);
    // A replicates B: the rig's direct client (to A) reads the final state.
    await waitFor(async () => (await replication(a.client, 'master_link_status')) === 'up', { what: 'A following B', timeoutMs: 15_000 });
    const after = await waitLiveNodes(r, 2, 10_000).catch(() => [] as string[]);
    const rejected = Number((await b.client.get('verk:stat:fenced')) ?? 0);
    const metrics = await fetch(`http://127.0.0.1:${health}/metrics`).then((res) => res.text());
    const readonly = Number(/^verk_redis_events_total\{event="READONLY"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    const reconnects = Number(/^verk_redis_events_total\{event="reconnect"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    const res = await stopWorker(w);
    const fenced = logLines(res.all, 'node fenced').length;
    const f = await count(r, 'managed endpoint failover (READONLY, then the name moves)', jids, {
      switch_ms: switched,
      back_ms: backMs,
      readonly_replies: readonly,
      reconnects,
      fenced_nodes: fenced,
      fencing_rejections: rejected,
      same_nodes: String(before) === String(after),
    });
    expectConserved(f, 0);
    expectNoFencing({ fenced, rejected, before, after });
    expect(readonly).toBeGreaterThan(0);
    expect(reconnects).toBeGreaterThan(0);
  }, 120_000);
});
