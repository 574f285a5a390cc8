// Fault: half-open connections (issue 10 item 3). Every existing connection of `verk work`
// silently stops delivering (NAT/conntrack drop, load-balancer failover) and new connections
// are refused for longer than nodeTtl; then Redis is reachable again. The node must notice
// (command timeouts), reconnect and be back at full service within nodeTtl + the documented
// bound, with nothing lost or stuck; and SIGTERM during the outage must end the process group
// within shutdownTimeout + a few seconds.
import { afterEach, describe, expect, it } from 'vitest';
import {
  useFaultRig,
  startFaultWorker,
  stopAllWorkers,
  stopWorker,
  logLines,
  enqueueCount,
  waitDone,
  waitLiveNodes,
  doneJobs,
  count,
  sleep,
  sampleHoldings,
  groupAlive,
  FAULT_COMMAND_TIMEOUT_MS,
  TEST_INTERVALS,
  expectConserved,
} from '../helpers/fault-kit.js';
import { waitFor } from '../helpers/wait.js';
import { liveNodes } from '../helpers/e2e.js';

const rig = useFaultRig();
afterEach(stopAllWorkers);

const JOBS = Number(process.env.FAULT_JOBS ?? 300);
const OUTAGE_MS = Number(process.env.FAULT_OUTAGE_MS ?? TEST_INTERVALS.nodeTtlMs + 1000);
const SHUTDOWN_MS = 2000; // workArgs' --shutdown-timeout
/** docs/reliability.md: back to full service within nodeTtl + redisCommandTimeout + blockTimeout + 2 s of Redis being reachable. */
const RECOVERY_BOUND_MS = TEST_INTERVALS.nodeTtlMs + FAULT_COMMAND_TIMEOUT_MS + TEST_INTERVALS.blockMs + 2000;

describe('half-open connections', () => {
  it('stale + refused for longer than nodeTtl, then reachable: back to full service within the bound, 0 lost, 0 stuck', async () => {
    const r = rig();
    const jids = await enqueueCount(r, JOBS, 100);
    const w = startFaultWorker(r, ['--queues', 'default:10', '--processes', '2']);
    await waitLiveNodes(r, 2, 20_000);
    await waitDone(r, Math.min(50, JOBS / 4), 30_000, 'the first jobs');
    const holdings = sampleHoldings(r);
    const doneAtFault = await doneJobs(r);
    r.proxy.stale();
    await r.proxy.refuse();
    await sleep(OUTAGE_MS);
    const doneInOutage = (await doneJobs(r)) - doneAtFault;
    await r.proxy.heal();
    const healedAt = Date.now();
    const remaining = JOBS - (await doneJobs(r));
    // Full service: both worker processes registered and alive, and every job done (Infinity: never).
    const since = () => Date.now() - healedAt;
    const nodesBackMs = await waitLiveNodes(r, 2, RECOVERY_BOUND_MS + 10_000).then(since, () => Infinity);
    const allDoneMs = await waitDone(r, JOBS, RECOVERY_BOUND_MS + (remaining * 100) / 20 + 10_000).then(since, () => Infinity);
    const held = await holdings.stop();
    const liveAtEnd = (await liveNodes(r.server.client)).length;
    const res = await stopWorker(w);
    const f = await count(r, 'half-open: stale + refused, then healed', jids, {
      outage_ms: OUTAGE_MS,
      done_during_outage: doneInOutage,
      nodes_back_ms: nodesBackMs,
      all_done_ms: allDoneMs,
      remaining_at_heal: remaining,
      bound_ms: RECOVERY_BOUND_MS,
      held,
      reconnects: r.proxy.accepted,
      live_at_end: liveAtEnd,
      spawn_failures: logLines(res.all, 'could not start a replacement').map((l) => l.error),
    });
    expectConserved(f, held);
    expect(nodesBackMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    // The jobs left at heal take remaining × 100 ms / 20 slots to run; generous slack for a loaded machine.
    expect(allDoneMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS + (remaining * 100) / 20 + 10_000);
  });

  it('SIGTERM during the outage: the process group exits within shutdownTimeout + a few seconds; a fresh node then finishes everything', async () => {
    const r = rig();
    const jids = await enqueueCount(r, JOBS, 100);
    const w = startFaultWorker(r, ['--queues', 'default:10', '--processes', '2']);
    await waitLiveNodes(r, 2, 20_000);
    await waitDone(r, Math.min(50, JOBS / 4), 30_000, 'the first jobs');
    const holdings = sampleHoldings(r);
    r.proxy.stale();
    await r.proxy.refuse();
    await sleep(500);
    process.kill(-w.pid!, 'SIGTERM');
    const termAt = Date.now();
    const exited = await Promise.race([w.then(() => true), sleep(SHUTDOWN_MS + 20_000).then(() => false)]);
    await waitFor(() => !groupAlive(w.pid!), { what: 'every process of the group to exit', timeoutMs: 20_000 }).catch(() => undefined);
    const exitMs = Date.now() - termAt;
    const groupGone = !groupAlive(w.pid!);
    await r.proxy.heal();
    // A fresh node reaps what the terminated one still held (after nodeTtl) and runs the rest.
    startFaultWorker(r, ['--queues', 'default:10', '--processes', '2']);
    await waitDone(r, JOBS, 60_000).catch(() => undefined);
    const held = await holdings.stop();
    const f = await count(r, 'half-open: SIGTERM during the outage', jids, {
      held,
      exit_ms: exitMs,
      bound_ms: SHUTDOWN_MS + 5000,
      exit_code: exited ? (await w).exitCode : 'still running',
    });
    expect(exited).toBe(true);
    expect(groupGone).toBe(true);
    expect(exitMs).toBeLessThanOrEqual(SHUTDOWN_MS + 5000);
    expectConserved(f, held);
  });
});
