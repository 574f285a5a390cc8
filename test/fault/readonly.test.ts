// Fault: the master verk uses is demoted in a failover (writes answer READONLY) for 6 s, then
// promoted back with its data (test/helpers/redis-pair.ts keeps every byte). verk must recover
// to --processes live worker processes and finish every job, nothing lost or stuck.
import { afterEach, describe, expect, it } from 'vitest';
import {
  useFaultRig,
  startFaultWorker,
  stopAllWorkers,
  enqueueCount,
  waitDone,
  waitLiveNodes,
  count,
  sleep,
  sampleHoldings,
  expectConserved,
} from '../helpers/fault-kit.js';

const rig = useFaultRig({ pair: true });
afterEach(stopAllWorkers);

const JOBS = Number(process.env.FAULT_JOBS ?? 300);
const PROCESSES = 2;

describe('READONLY (demoted master)', () => {
  it(
    'A demoted for 6 s, then promoted back: recovers, all jobs done, 0 lost',
    async () => {
      const r = rig();
      const pair = r.pair!;
      // 400 ms jobs: 300 of them keep 20 slots busy for 6 s, through the whole fault.
      const jids = await enqueueCount(r, JOBS, 400);
      startFaultWorker(r, ['--queues', 'default:10', '--processes', String(PROCESSES)]);
      await waitLiveNodes(r, PROCESSES, 20_000);
      await waitDone(r, 20, 30_000, 'the first jobs');
      const holdings = sampleHoldings(r);
      await pair.demoteA();
      const readonly = await r.server.client.set('test:probe', '1').then(
        () => false,
        (e: Error) => /READONLY/.test(e.message),
      );
      await sleep(6000);
      await pair.promoteA();
      const promotedAt = Date.now();
      // The choreography itself must leave A a writable master with every job (else the test, not verk, lost them).
      const writable = await r.server.client.set('test:probe', '2').then(
        () => true,
        () => false,
      );
      let back = true;
      await waitLiveNodes(r, PROCESSES, 20_000).catch(() => (back = false));
      const backMs = Date.now() - promotedAt;
      await waitDone(r, JOBS, 20_000 + (JOBS * 400) / 20).catch(() => undefined);
      const held = await holdings.stop();
      const f = await count(r, 'READONLY 6 s (demoted master)', jids, { readonly_seen: readonly, live_after: back ? PROCESSES : 'fewer', back_ms: backMs, held });
      expect(readonly).toBe(true);
      expect(writable).toBe(true);
      expect(back).toBe(true);
      expectConserved(f, held);
    },
    90_000 + (JOBS * 400) / 20,
  );
});
