// The engine in the test process: a QueueWorker (with its Settler) or a WorkerNode against a
// private redis-server, with a fake handler registry and recorded events. Nothing is mocked
// below the Scripts wrappers: every write goes to the real Redis.
import type { Redis } from 'ioredis';
import { connectRedis } from '../../src/redis/connection.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';
import { silentLogger } from '../../src/util/logger.js';
import type { Handler, HandlerRegistry, Perform } from '../../src/core/handlers.js';
import { NodeLease } from '../../src/core/lease.js';
import { IsolationGate } from '../../src/core/isolation.js';
import { QueueWorker, type QueueWorkerEvents } from '../../src/core/queue-worker.js';
import type { Config } from '../../src/config/schema.js';
import { testConfig } from './config.js';

import { ERROR_CLASS } from '../../src/job/error-classes.js';

export const keys = makeKeys('');

/** A registry of in-test handlers: class name → perform (or a handler with options). */
export function fakeRegistry(handlers: Record<string, Perform | Partial<Handler>>): HandlerRegistry {
  const map = new Map<string, Handler>();
  for (const [className, h] of Object.entries(handlers)) {
    const base = typeof h === 'function' ? { perform: h } : h;
    map.set(className, { className, file: `<test>/${className}`, perform: base.perform!, ...base } as Handler);
  }
  return {
    get: (name) => map.get(name),
    list: () => [...map.values()],
    errors: [],
    failureFor: (name) => Object.assign(new Error(`no handler for class ${name} in <test>`), { name: ERROR_CLASS.UnknownJobClass }),
  };
}

export interface Recorded extends QueueWorkerEvents {
  fenced: string[];
  rejected: number;
  settled: string[];
  ignored: string[];
}

export function recorder(): Recorded {
  const r: Recorded = {
    fenced: [],
    rejected: 0,
    settled: [],
    ignored: [],
    onFenced: (reason) => void r.fenced.push(reason),
    onRejected: (n) => void (r.rejected += n),
    onSettled: (_q, result) => void r.settled.push(result),
    onIgnoredAbort: (jid) => void r.ignored.push(jid),
  };
  return r;
}

export interface WorkerKit {
  worker: QueueWorker;
  scripts: Scripts;
  events: Recorded;
  gate: IsolationGate;
  /** The worker's script connection (auto-pipelined, like a worker process's). */
  redis: Redis;
  close(): Promise<void>;
}

/** Registers `node` and builds a QueueWorker for queue `q` (not started). */
export async function workerKit(
  url: string,
  node: string,
  registry: HandlerRegistry,
  opts: { concurrency?: number; queue?: string; config?: Partial<Config>; lease?: NodeLease } = {},
): Promise<WorkerKit> {
  const config = testConfig({ redisUrl: url, ...opts.config });
  const redis = connectRedis(url, { name: `test:${node}`, autoPipeline: true });
  const blocking = connectRedis(url, { name: `test:${node}:block` });
  const scripts = new Scripts(redis, keys);
  await scripts.register(node, 60_000, 60_000, { host: 'test' });
  const events = recorder();
  let worker: QueueWorker | undefined;
  const gate = new IsolationGate(() => worker?.running.size ?? 0);
  worker = new QueueWorker({
    queue: { name: opts.queue ?? 'q', concurrency: opts.concurrency ?? 5, timeout: 0 },
    node,
    config,
    scripts,
    blocking,
    registry,
    log: silentLogger,
    events,
    gate,
    lease: opts.lease ?? new NodeLease(),
  });
  const w = worker;
  return {
    worker: w,
    scripts,
    events,
    gate,
    redis,
    async close() {
      await w.stopFetching();
      redis.disconnect();
    },
  };
}

export const job = (n: number | string, extra: Record<string, unknown> = {}, cls = 'T') => JSON.stringify({ class: cls, args: [n], jid: `j${n}`, queue: 'q', ...extra });

/** A promise with its resolve function outside (a handler that waits for the test). */
export function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}
