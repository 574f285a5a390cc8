// Signals a process manager or a closed terminal sends to the whole process group of
// `verk work` while jobs run (docs/operations.md): TERM, INT, HUP and QUIT stop it like SIGTERM
// (jobs handed back to their queue, exit 0, no registration left); USR2 and ALRM are harmless
// (the process stays up, its jobs finish). SIGTERM during start-up stops spawning and leaves no
// registration behind.
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
  groupAlive,
  doneJobs,
  type FaultRig,
  expectConserved,
} from '../helpers/fault-kit.js';
import { waitFor } from '../helpers/wait.js';
import { liveNodes } from '../helpers/e2e.js';
import { pidAlive } from '../helpers/e2e-kit.js';

const rig = useFaultRig();
afterEach(stopAllWorkers);

const JOBS = 20;
const SHUTDOWN_MS = 2000; // workArgs' --shutdown-timeout
const ARGS = ['--queues', 'default:10', '--processes', '2'];

async function inProgressCount(r: FaultRig): Promise<number> {
  let n = 0;
  for (const k of await r.server.client.keys('inprogress:*')) n += await r.server.client.llen(k);
  return n;
}

/** Starts a worker with every job running (3 s each, longer than the shutdown timeout). */
async function busyWorker(r: FaultRig) {
  const jids = await enqueueCount(r, JOBS, 3000);
  const w = startFaultWorker(r, ARGS);
  const nodes = await waitLiveNodes(r, 2, 20_000);
  await waitFor(async () => (await inProgressCount(r)) === JOBS, { what: `all ${JOBS} jobs running`, timeoutMs: 20_000 });
  return { jids, w, nodes };
}

describe('signals to the process group while jobs run', () => {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const) {
    it(`${sig}: like SIGTERM — jobs handed back, exit 0, no registrations left`, async () => {
      const r = rig();
      const { jids, w } = await busyWorker(r);
      process.kill(-w.pid!, sig);
      const sentAt = Date.now();
      const exited = await Promise.race([w.then(() => true), sleep(SHUTDOWN_MS + 10_000).then(() => false)]);
      const exitMs = Date.now() - sentAt;
      const res = exited ? await w : undefined;
      await waitFor(() => !groupAlive(w.pid!), { what: 'the group to exit', timeoutMs: 5000 }).catch(() => undefined);
      const registered = await r.server.client.scard('verk_nodes');
      const held = await inProgressCount(r);
      const queued = await r.server.client.llen('queue:default');
      const doneAtExit = await doneJobs(r);
      // A fresh node runs what was handed back.
      startFaultWorker(r, ARGS);
      await waitDone(r, JOBS, 30_000).catch(() => undefined);
      const f = await count(r, `signal ${sig} while busy`, jids, {
        exit_ms: exitMs,
        exit_code: res?.exitCode ?? 'none',
        killed_by: res?.signal ?? 'none',
        registrations_left: registered,
        in_progress_left: held,
        handed_back: queued,
        done_before_exit: doneAtExit,
      });
      expect(exited).toBe(true);
      expect(res?.exitCode).toBe(0);
      expect(registered).toBe(0);
      expect(held).toBe(0);
      expect(queued + doneAtExit).toBe(JOBS);
      expectConserved(f, JOBS);
    }, 60_000);
  }

  for (const sig of ['SIGUSR2', 'SIGALRM'] as const) {
    it(`${sig}: harmless — the process stays up and its jobs finish`, async () => {
      const r = rig();
      const { jids, w, nodes } = await busyWorker(r);
      process.kill(-w.pid!, sig);
      await sleep(1000);
      // The supervisor itself, not a zombie; its worker processes keep their node ids (checked below).
      const upAfter = pidAlive(w.pid!) && w.exitCode === null;
      await waitDone(r, JOBS, 20_000).catch(() => undefined);
      const nodesAfter = await liveNodes(r.server.client);
      const res = await stopWorker(w);
      const f = await count(r, `signal ${sig} while busy`, jids, {
        stayed_up: upAfter,
        same_nodes: String(nodes) === String(nodesAfter),
        killed_by: res.signal ?? 'none',
      });
      expect(upAfter).toBe(true);
      expect(nodesAfter).toEqual(nodes);
      expectConserved(f, 0);
    }, 60_000);
  }

  it('SIGTERM during start-up (before every process is spawned): exits, no registrations left', async () => {
    const r = rig();
    // 150 ms each way makes every registration take a round trip of 300 ms: start-up lasts over a second.
    r.proxy.latency(150);
    const w = startFaultWorker(r, ['--queues', 'default:10', '--processes', '4']);
    await waitFor(async () => (await r.server.client.scard('verk_nodes')) >= 1, { what: 'the first registration', timeoutMs: 20_000, intervalMs: 5 });
    const atSignal = await r.server.client.scard('verk_nodes');
    process.kill(-w.pid!, 'SIGTERM');
    const exited = await Promise.race([w.then(() => true), sleep(SHUTDOWN_MS + 10_000).then(() => false)]);
    await r.proxy.heal();
    const res = exited ? await w : undefined;
    await sleep(500);
    const left = await r.server.client.smembers('verk_nodes');
    console.log(
      `[measured] SIGTERM during start-up: ${atSignal} of 4 registered at the signal; exited ${exited} (code ${res?.exitCode}, signal ${res?.signal}); registrations left ${left.length}`,
    );
    expect(atSignal).toBeLessThan(4);
    expect(exited).toBe(true);
    expect(left).toEqual([]);
  }, 60_000);
});
