// What the failover tests share (test/fault/failover*.test.ts): a Sentinel rig and a Redis for
// the job ledger, started once per file; the `verk work` processes a test started, stopped after
// it even when it failed midway; and the arguments of a `verk work` on the rig.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { startRedis, type RedisServer } from './redis-server.js';
import { startSentinelRig, type SentinelRig, type SentinelRigOptions } from './sentinel-rig.js';
import { stopWorker, type Worker } from './fault-kit.js';

/** The failover tier's job handlers (Append: appends its jid to the ledger). */
export const HA_JOBS = fileURLToPath(new URL('../fixtures/ha-jobs/', import.meta.url));

export interface HaRig {
  rig: SentinelRig;
  record: RedisServer;
  started: Worker[];
}

/** Starts the rig before the file's tests and stops it after; stops a test's workers after it. */
export function useHaRig(opts: SentinelRigOptions = {}): HaRig {
  const ha = { started: [] as Worker[] } as HaRig;
  beforeAll(async () => {
    ha.rig = await startSentinelRig(opts);
    ha.record = await startRedis();
  }, 60_000);
  afterAll(async () => {
    await ha.rig?.stop();
    await ha.record?.stop();
  });
  afterEach(async () => {
    await Promise.all(ha.started.splice(0).map((w) => stopWorker(w)));
  });
  return ha;
}

export interface HaWorkerOptions {
  queues: string;
  nodeTtl: string;
  commandTimeout: string;
  durability: 'default' | 'replicated';
  durabilityTimeoutMs: number;
  healthPort: number;
}

/** `verk work` on the rig, one process, JSON logs, short intervals, a health port for /metrics. */
export function haWorkerArgs(url: string, o: HaWorkerOptions): string[] {
  return [
    ...['--redis-url', url, '--handlers', HA_JOBS, '--log-format', 'json', '--processes', '1', '--queues', o.queues],
    ...['--heartbeat-interval', '500ms', '--node-ttl', o.nodeTtl, '--reaper-interval', '1s', '--block-timeout', '1s'],
    ...['--redis-command-timeout', o.commandTimeout, '--durability', o.durability, '--durability-timeout', `${o.durabilityTimeoutMs}ms`],
    ...['--shutdown-timeout', '2s', '--health-port', String(o.healthPort)],
  ];
}
