// The rig of a fault scenario: verk's private redis-server (or a pair, for READONLY) behind a
// TCP proxy the test controls, a second private redis-server where the fixture handlers record
// what ran (so a fault on verk's Redis never hides or fakes an execution), a producer on the
// direct connection, and the built CLI started through the proxy in its own process group.
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { startRedis, type RedisServer } from './redis-server.js';
import { startRedisPair, type RedisPair } from './redis-pair.js';
import { startProxy, type TcpProxy } from './tcp-proxy.js';
import { startWorker, signalGroup } from './cli.js';
import { workArgs, liveNodes, TEST_INTERVALS } from './e2e.js';
import { jsonLines } from './e2e-kit.js';
import { ledger, type LedgerFigures } from './ledger.js';
import { waitFor } from './wait.js';
import { Client } from '../../src/api/client.js';

export interface FaultRig {
  /** verk's Redis (A of the pair when there is one); its `client` is a direct connection. */
  server: RedisServer;
  pair?: RedisPair;
  /** Where the fixture handlers record executions. */
  record: RedisServer;
  proxy: TcpProxy;
  /** Producer on the direct connection. */
  client: Client;
}

export type Worker = ReturnType<typeof startWorker>;

/** The command timeout the scenarios give verk (env VERK_REDIS_COMMAND_TIMEOUT), short like the test intervals. */
export const FAULT_COMMAND_TIMEOUT_MS = 1000;

/** Registers the file's hooks; the returned function gives the rig inside tests. */
export function useFaultRig(opts: { pair?: boolean } = {}): () => FaultRig {
  let rig: FaultRig | undefined;
  beforeAll(async () => {
    const pair = opts.pair ? await startRedisPair() : undefined;
    const server = pair?.a ?? (await startRedis());
    const record = await startRedis();
    const proxy = await startProxy({ port: server.port });
    rig = { server, pair, record, proxy, client: new Client({ redisUrl: server.url }) };
  });
  afterAll(async () => {
    if (!rig) return;
    await rig.client.close();
    await rig.proxy.close();
    await (rig.pair ? rig.pair.stop() : rig.server.stop());
    await rig.record.stop();
  });
  beforeEach(async () => {
    await rig!.proxy.heal();
    await Promise.all([rig!.server.client.flushdb(), rig!.record.client.flushdb()]);
  });
  return () => rig!;
}

const started: Worker[] = [];

/** `verk work` through the proxy with the test intervals; `args` override (later flags win). */
export function startFaultWorker(rig: FaultRig, args: string[], env: Record<string, string> = {}): Worker {
  const w = startWorker(workArgs({ url: rig.proxy.url } as RedisServer, args), {
    env: { TEST_REDIS_URL: rig.record.url, VERK_REDIS_COMMAND_TIMEOUT: `${FAULT_COMMAND_TIMEOUT_MS}ms`, ...env },
  });
  started.push(w);
  return w;
}

/** True while any process of the group started by startWorker exists. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the group, then SIGKILL if it has not exited within `graceMs`. Returns the result. */
export async function stopWorker(w: Worker, graceMs = 15_000) {
  signalGroup(w.pid!, 'SIGCONT');
  signalGroup(w.pid!, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(w.pid!, 'SIGKILL'), graceMs);
  const res = await w;
  clearTimeout(timer);
  await waitFor(() => !groupAlive(w.pid!), { what: 'the process group to exit', timeoutMs: 5000 }).catch(() => signalGroup(w.pid!, 'SIGKILL'));
  return res;
}

/** Stops every worker a test started (afterEach / finally). */
export async function stopAllWorkers(): Promise<void> {
  await Promise.all(started.splice(0).map((w) => stopWorker(w)));
}

export function enqueueCount(rig: FaultRig, n: number, sleepMs: number): Promise<string[]> {
  return rig.client.enqueueBulk(Array.from({ length: n }, () => ({ class: 'Count', args: [{ sleepMs }] })));
}

export async function doneJobs(rig: FaultRig): Promise<number> {
  return rig.record.client.hlen('test:done');
}

export async function waitDone(rig: FaultRig, n: number, timeoutMs: number, what = `all ${n} jobs done`): Promise<void> {
  await waitFor(async () => (await doneJobs(rig)) >= n, { what, timeoutMs, intervalMs: 50 });
}

/** Waits for `n` live registered nodes; returns their ids. */
export function waitLiveNodes(rig: FaultRig, n: number, timeoutMs: number): Promise<string[]> {
  return waitFor(
    async () => {
      const ids = await liveNodes(rig.server.client);
      return ids.length === n ? ids : null;
    },
    { what: `${n} live nodes`, timeoutMs, intervalMs: 50 },
  );
}

/** Log lines of a finished worker whose msg starts with `prefix`. */
export function logLines(output: unknown, prefix: string): Record<string, unknown>[] {
  return jsonLines(String(output ?? '')).filter((l) => typeof l.msg === 'string' && l.msg.startsWith(prefix));
}

/** The ledger of a scenario against the rig's servers. */
export function count(rig: FaultRig, scenario: string, jids: string[], extra: Record<string, unknown> = {}): Promise<LedgerFigures> {
  return ledger(scenario, jids, { verk: rig.server.client, record: rig.record.client }, extra);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export { TEST_INTERVALS };

/**
 * Samples the in-progress lists every 50 ms until stopped; returns, summed over every node id
 * seen, the most jobs that node held at once: the bound on duplicates a fault may cause.
 */
export function sampleHoldings(rig: FaultRig): { stop(): Promise<number> } {
  const most = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const keys = await rig.server.client.keys('inprogress:*').catch(() => [] as string[]);
      for (const k of keys) {
        const n = await rig.server.client.llen(k).catch(() => 0);
        most.set(k, Math.max(most.get(k) ?? 0, n));
      }
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return [...most.values()].reduce((a, b) => a + b, 0);
    },
  };
}

/** The pass condition of every scenario: 0 lost, 0 stuck, every job done, duplicates ≤ `maxExtraRuns`. */
export function expectConserved(f: LedgerFigures, maxExtraRuns: number): void {
  expect(f.lost).toBe(0);
  expect(f.stuck).toBe(0);
  expect(f.done).toBe(f.jobs);
  expect(f.extraExecutions).toBeLessThanOrEqual(maxExtraRuns);
}

/** A fault below the fencing threshold: no node fenced, no late write refused, the same nodes alive. */
export function expectNoFencing(seen: { fenced: number; rejected: number; before: string[]; after: string[] }): void {
  expect(seen.fenced).toBe(0);
  expect(seen.rejected).toBe(0);
  expect(seen.after).toEqual(seen.before);
}
