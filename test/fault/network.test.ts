// Faults on the network between verk and Redis, through the test's TCP proxy: a stall shorter
// than nodeTtl/2 (must not fence anything), every connection reset mid-run (must lose and
// duplicate nothing), and 200 ms of latency each way for a while (must lose nothing).
import { afterEach, describe, it } from 'vitest';
import {
  useFaultRig,
  startFaultWorker,
  stopAllWorkers,
  stopWorker,
  enqueueCount,
  waitDone,
  waitLiveNodes,
  count,
  sleep,
  sampleHoldings,
  logLines,
  expectConserved,
  expectNoFencing,
} from '../helpers/fault-kit.js';

const rig = useFaultRig();
afterEach(stopAllWorkers);

const JOBS = Number(process.env.FAULT_JOBS ?? 300);

describe('network faults', () => {
  it('a stall (freeze) shorter than nodeTtl/2: no fencing at all, 0 lost, 0 duplicates', async () => {
    // nodeTtl 6 s, heartbeat every 500 ms, the default 5 s command timeout; the stall lasts 2 s (< 3 s).
    const r = rig();
    const jids = await enqueueCount(r, JOBS, 100);
    const w = startFaultWorker(r, ['--queues', 'default:10', '--processes', '2', '--node-ttl', '6s', '--heartbeat-interval', '500ms'], {
      VERK_REDIS_COMMAND_TIMEOUT: '5s',
    });
    const before = await waitLiveNodes(r, 2, 20_000);
    await waitDone(r, 50, 30_000, 'the first jobs');
    r.proxy.freeze();
    await sleep(2000);
    await r.proxy.heal();
    await waitDone(r, JOBS, 60_000).catch(() => undefined);
    const after = await waitLiveNodes(r, 2, 5000).catch(() => [] as string[]);
    const rejected = Number((await r.server.client.get('verk:stat:fenced')) ?? 0);
    const res = await stopWorker(w);
    const fenced = logLines(res.all, 'node fenced').length;
    const f = await count(r, 'freeze 2 s (< nodeTtl/2)', jids, { fenced_nodes: fenced, fencing_rejections: rejected, same_nodes: String(before) === String(after) });
    expectConserved(f, 0);
    expectNoFencing({ fenced, rejected, before, after });
  });

  it('every connection reset mid-run (3 times): 0 lost, 0 duplicates', async () => {
    const r = rig();
    const jids = await enqueueCount(r, JOBS, 50);
    startFaultWorker(r, ['--queues', 'default:10', '--processes', '2']);
    await waitLiveNodes(r, 2, 20_000);
    await waitDone(r, 50, 30_000, 'the first jobs');
    const before = r.proxy.accepted;
    for (let i = 0; i < 3; i++) {
      r.proxy.reset();
      await sleep(400);
    }
    await waitDone(r, JOBS, 60_000).catch(() => undefined);
    const f = await count(r, 'reset of every connection x3', jids, { reconnects: r.proxy.accepted - before });
    expectConserved(f, 0);
  });

  it('200 ms latency each way for 3 s: 0 lost, duplicates bounded by what the nodes held', async () => {
    const r = rig();
    const jids = await enqueueCount(r, JOBS, 50);
    startFaultWorker(r, ['--queues', 'default:10', '--processes', '2']);
    await waitLiveNodes(r, 2, 20_000);
    await waitDone(r, 50, 30_000, 'the first jobs');
    const holdings = sampleHoldings(r);
    r.proxy.latency(200);
    await sleep(3000);
    await r.proxy.heal();
    await waitDone(r, JOBS, 60_000).catch(() => undefined);
    const held = await holdings.stop();
    const f = await count(r, 'latency 200 ms for 3 s', jids, { held });
    expectConserved(f, held);
  });
});
