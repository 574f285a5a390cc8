// Faults of the Redis server itself while `verk work` runs: out of memory (noeviction, writes
// refused for 5 s), CLIENT PAUSE WRITE and ALL for 3 s. After each, the supervisor must be back
// at --processes live worker processes with every job done, nothing lost or stuck; a pause
// shorter than nodeTtl/2 must fence nothing.
import { afterEach, describe, expect, it } from 'vitest';
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
  type FaultRig,
  expectConserved,
  expectNoFencing,
} from '../helpers/fault-kit.js';

const rig = useFaultRig();
afterEach(stopAllWorkers);

const JOBS = Number(process.env.FAULT_JOBS ?? 300);
const PROCESSES = 2;

/**
 * Makes Redis full for `ms`: maxmemory just above what it uses (noeviction), filled up by another
 * producer until writes are refused, then pinned 64 KB below the use of that moment so that the
 * little memory verk's own acks free cannot end the OOM state early. Returns the refused writes.
 */
async function holdFull(r: FaultRig, ms: number): Promise<number> {
  const c = r.server.client;
  const used = async () => Number(/used_memory:(\d+)/.exec(await c.info('memory'))![1]);
  await c.config('SET', 'maxmemory-policy', 'noeviction');
  await c.config('SET', 'maxmemory', String((await used()) + 256 * 1024));
  let refused = 0;
  for (let i = 0; refused === 0 && i < 1000; i++) await c.set(`test:filler:${i}`, 'x'.repeat(4 * 1024)).catch(() => refused++);
  await c.config('SET', 'maxmemory', String((await used()) - 64 * 1024));
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await c.set('test:filler:probe', 'x'.repeat(1024)).catch(() => refused++);
    await sleep(100);
  }
  return refused;
}

async function lift(r: FaultRig): Promise<void> {
  const c = r.server.client;
  await c.config('SET', 'maxmemory', '0');
  const fillers = await c.keys('test:filler:*');
  if (fillers.length) await c.del(...fillers);
}

describe('Redis server faults', () => {
  it(
    'OOM (noeviction) for 5 s, then lifted: back to --processes live workers, all jobs done, 0 lost',
    async () => {
      const r = rig();
      // 400 ms jobs: 300 of them keep 20 slots busy for 6 s, through the whole fault.
      const jids = await enqueueCount(r, JOBS, 400);
      const w = startFaultWorker(r, ['--queues', 'default:10', '--processes', String(PROCESSES)]);
      await waitLiveNodes(r, PROCESSES, 20_000);
      await waitDone(r, 20, 30_000, 'the first jobs');
      const holdings = sampleHoldings(r);
      const refused = await holdFull(r, 5000);
      await lift(r);
      const liftedAt = Date.now();
      let back = true;
      await waitLiveNodes(r, PROCESSES, 20_000).catch(() => (back = false));
      const backMs = Date.now() - liftedAt;
      await waitDone(r, JOBS, 20_000 + (JOBS * 400) / 20).catch(() => undefined);
      const held = await holdings.stop();
      const res = await stopWorker(w);
      const oomLines = String(res.all ?? '')
        .split('\n')
        .filter((l) => l.includes('OOM')).length;
      const f = await count(r, 'OOM 5 s', jids, { oom_reached: refused > 0, oom_log_lines: oomLines, live_after: back ? PROCESSES : 'fewer', back_ms: backMs, held });
      // The fault reached verk (else the test proves nothing).
      expect(refused).toBeGreaterThan(0);
      expect(oomLines).toBeGreaterThan(0);
      expect(back).toBe(true);
      expectConserved(f, held);
    },
    90_000 + (JOBS * 400) / 20,
  );

  for (const mode of ['WRITE', 'ALL'] as const) {
    it(`CLIENT PAUSE 3000 ${mode} (< nodeTtl/2): no fencing, 0 lost`, async () => {
      // nodeTtl 8 s, heartbeat every second, the default 5 s command timeout.
      const r = rig();
      // 200 ms jobs: busy through the pause.
      const jids = await enqueueCount(r, JOBS, 200);
      const w = startFaultWorker(r, ['--queues', 'default:10', '--processes', String(PROCESSES), '--node-ttl', '8s', '--heartbeat-interval', '1s'], {
        VERK_REDIS_COMMAND_TIMEOUT: '5s',
      });
      const before = await waitLiveNodes(r, PROCESSES, 20_000);
      await waitDone(r, 50, 30_000, 'the first jobs');
      const holdings = sampleHoldings(r);
      await r.server.client.call('CLIENT', 'PAUSE', '3000', mode);
      await sleep(3000);
      await waitDone(r, JOBS, 60_000).catch(() => undefined);
      const held = await holdings.stop();
      const after = await waitLiveNodes(r, PROCESSES, 5000).catch(() => [] as string[]);
      const rejected = Number((await r.server.client.get('verk:stat:fenced')) ?? 0);
      const res = await stopWorker(w);
      const fenced = logLines(String(res.all ?? ''), 'node fenced').length;
      const f = await count(r, `CLIENT PAUSE 3000 ${mode}`, jids, {
        fenced_nodes: fenced,
        fencing_rejections: rejected,
        same_nodes: String(before) === String(after),
        held,
      });
      expectConserved(f, held);
      expectNoFencing({ fenced, rejected, before, after });
    });
  }
});
