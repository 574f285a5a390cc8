// A handler starts only while its node's lease is held (src/core/lease.ts): a process thawed after
// a freeze past its TTL reads replies that arrived meanwhile — jobs an ack's refill fetched while
// the lease held, since handed back by a reaper and run elsewhere — before the supervisor's fence
// message. Found by test/fault/fleet-leases-chaos.test.ts (a job run a second time by the thawed
// node, after a peer had finished it). Here, in the test process against a private Redis: with the
// lease lapsed a fetched job is held back, not started; a renewal starts it; a hand-back (the
// fence) returns it unstarted.
import { describe, expect, it } from 'vitest';
import { NodeLease } from '../../src/core/lease.js';
import { systemMonotonicMs } from '../../src/util/clock.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';
import { fakeRegistry, job, keys, workerKit } from '../helpers/engine-kit.js';

let server: RedisServer;
usePrivateRedis((s) => (server = s));

describe('the node lease', () => {
  it('a job fetched while the lease has lapsed is held back; a renewal starts it', async () => {
    const started: string[] = [];
    const lease = new NodeLease();
    lease.renewedUntil(systemMonotonicMs() - 1);
    const kit = await workerKit(server.url, 'n-lease', fakeRegistry({ T: (args) => void started.push(String(args[0])) }), { lease });
    try {
      await server.client.lpush(keys.queue('q'), job('held'));
      kit.worker.start();
      await waitFor(async () => (await server.client.llen(keys.inprogress('q', 'n-lease'))) === 1, { what: 'the job fetched' });
      // Fetched, not started (give the worker every chance to start it).
      await new Promise((r) => setTimeout(r, 300));
      expect(started).toEqual([]);
      lease.renewedUntil(systemMonotonicMs() + 60_000);
      await waitFor(() => started.length === 1, { what: 'the job started after the renewal' });
      expect(started).toEqual(['held']);
    } finally {
      await kit.close();
    }
  });

  it('a job held back under a lapsed lease is handed back unstarted when the node is fenced', async () => {
    const started: string[] = [];
    const lease = new NodeLease();
    lease.renewedUntil(systemMonotonicMs() - 1);
    const kit = await workerKit(server.url, 'n-fenced', fakeRegistry({ T: (args) => void started.push(String(args[0])) }), { lease });
    try {
      await server.client.lpush(keys.queue('q'), job('zombie'));
      kit.worker.start();
      await waitFor(async () => (await server.client.llen(keys.inprogress('q', 'n-fenced'))) === 1, { what: 'the job fetched' });
      await kit.worker.stopFetching();
      expect(await kit.worker.handBack('fenced')).toBe(1);
      await kit.worker.drained();
      expect(started).toEqual([]);
      expect(await server.client.llen(keys.queue('q'))).toBe(1);
    } finally {
      await kit.close();
    }
  });
});
