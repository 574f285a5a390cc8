// Cluster-wide limits through the whole engine (WorkerNode → QueueWorker → Settler → the limited
// scripts) in the test process: three nodes share a queue limited to 2 running jobs per account.
// The handlers count what runs per key at every instant; the test asserts the limit is never
// passed fleet-wide, each job runs once, each key's jobs start in enqueue order, all slots come
// back when the work is done, and a node's failures and idle waits release and refill as acks do.
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';
import { testConfig } from '../helpers/config.js';
import { fakeRegistry, keys } from '../helpers/engine-kit.js';
import { WorkerNode } from '../../src/core/worker-node.js';
import { silentLogger } from '../../src/util/logger.js';
import { parseLimits } from '../../src/config/limits.js';
import { Scripts } from '../../src/redis/scripts.js';
import type { Perform } from '../../src/core/handlers.js';

let server: RedisServer;
usePrivateRedis((s) => {
  server = s;
});

const Q = 'partner';
const limits = parseLimits({ [Q]: { key: 'args[0].account', concurrency: 2 } }, (why) => {
  throw new Error(why);
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fleet(n: number, perform: Perform, concurrency = 10, limitsOf = limits) {
  const config = testConfig({ redisUrl: server.url, queues: [{ name: Q, concurrency, timeout: 0 }], limits: limitsOf, blockTimeout: 5000 });
  const nodes: WorkerNode[] = [];
  const admin = new Scripts(server.client, keys);
  for (let i = 0; i < n; i++) {
    const id = `lim-${i}`;
    await admin.register(id, 60_000, 60_000, { host: 'test' });
    const node = new WorkerNode(id, config, fakeRegistry({ T: perform }), silentLogger, { onExit: () => undefined });
    node.start();
    nodes.push(node);
  }
  return {
    nodes,
    async stop() {
      await Promise.all(nodes.map((x) => x.shutdown(2000)));
    },
  };
}

describe('a limited queue run by three nodes', () => {
  it('never runs more than 2 jobs of one account at once, runs each job once and in order per account (within the 2 it runs at once), and frees every slot', async () => {
    const running = new Map<string, number>();
    let worst = 0;
    const starts = new Map<string, number[]>();
    const ran = new Map<number, number>();
    const perform: Perform = async (args) => {
      const { account, n } = args[0] as { account: string; n: number };
      const now = (running.get(account) ?? 0) + 1;
      running.set(account, now);
      worst = Math.max(worst, now);
      (starts.get(account) ?? starts.set(account, []).get(account)!).push(n);
      ran.set(n, (ran.get(n) ?? 0) + 1);
      await sleep(5 + (n % 7));
      running.set(account, running.get(account)! - 1);
    };
    const accounts = ['a', 'b', 'c', 'd', 'e'];
    const total = 300;
    const payloads = Array.from({ length: total }, (_, n) => JSON.stringify({ class: 'T', args: [{ account: accounts[n % 5], n }], jid: `lj${n}`, queue: Q }));
    // Most of the work on one key: its backlog parks while the others run.
    const hot = Array.from({ length: 100 }, (_, i) => JSON.stringify({ class: 'T', args: [{ account: 'hot', n: total + i }], jid: `lh${i}`, queue: Q }));
    await server.client.lpush(keys.queue(Q), ...hot, ...payloads);
    const t0 = Date.now();
    const f = await fleet(3, perform);
    try {
      await waitFor(() => ran.size === total + hot.length, { what: 'every job ran', timeoutMs: 60_000 });
      const ms = Date.now() - t0;
      console.log(
        `[measured] 3 nodes × concurrency 10, limit 2 per account: ${total + hot.length} jobs (100 on one key) in ${ms} ms; at most ${worst} of one account at once`,
      );
      expect(worst).toBeLessThanOrEqual(2);
      expect(worst).toBe(2);
      expect([...ran.values()].every((c) => c === 1)).toBe(true);
      // FIFO per account: slots are taken in enqueue order; two jobs holding the account's two slots
      // at once may start their handlers in either order, never further apart than the limit.
      for (const [account, ns] of starts) {
        const order = [...ns].sort((x, y) => x - y);
        const displaced = Math.max(...ns.map((n, i) => Math.abs(order.indexOf(n) - i)));
        expect(displaced, `${account}: ${ns.join(',')}`).toBeLessThan(2);
      }
      await waitFor(async () => (await server.client.hlen(`verk:limit:${Q}:held`)) === 0, { what: 'every slot released', timeoutMs: 5000 });
      expect(await server.client.exists(`verk:limit:${Q}:parked:hot`)).toBe(0);
    } finally {
      await f.stop();
    }
  });
});

describe('a rate-limited queue', () => {
  it('an idle node starts the next jobs when the window reopens, not at its next idle-wait timeout', async () => {
    const rated = parseLimits({ [Q]: { key: 'args[0].account', rate: '2/300ms' } }, (why) => {
      throw new Error(why);
    });
    const starts: number[] = [];
    const perform: Perform = async () => {
      const [s, us] = (await server.client.time()) as unknown as [string, string];
      starts.push(Number(s) * 1000 + Number(us) / 1000);
    };
    await server.client.del(keys.queue(Q));
    await server.client.lpush(keys.queue(Q), ...Array.from({ length: 6 }, (_, n) => JSON.stringify({ class: 'T', args: [{ account: 'r' }], jid: `rt${n}`, queue: Q })));
    const f = await fleet(1, perform, 5, rated);
    try {
      await waitFor(() => starts.length === 6, { what: 'six jobs started', timeoutMs: 10_000 });
    } finally {
      await f.stop();
    }
    const span = starts[5] - starts[0];
    let worst = 0;
    for (const t of starts) worst = Math.max(worst, starts.filter((x) => x >= t && x < t + 300).length);
    console.log(
      `[measured] rate 2/300ms, one idle node: 6 jobs started over ${Math.round(span)} ms (3 windows: ≥ 600 ms; waiting out the 1 s idle bound instead would take ≥ 2000 ms), at most ${worst} in any 300 ms`,
    );
    expect(worst).toBeLessThanOrEqual(2);
    // The wait is bounded by the reopening (300 ms), not by the 1 s idle bound: 2 reopenings ≈ 600 ms
    // (2 × 1 s with the idle bound alone); the slack is for a loaded machine.
    expect(span).toBeLessThan(1400);
  });
});
