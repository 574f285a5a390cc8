// The worker engine in the test process (QueueWorker, Settler, WorkerNode) against a private
// redis-server with a fake handler registry: ack batching with refill in one script call, a
// refused write that fences, reconcile after a reconnect, hand-back at the shutdown deadline,
// and bad input (invalid UTF-8, args that are not an array) going to dead without losing a byte.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import type { RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';
import { testConfig } from '../helpers/config.js';
import { fakeRegistry, job, keys, latch, workerKit } from '../helpers/engine-kit.js';
import { Scripts } from '../../src/redis/scripts.js';
import { reapOptions } from '../../src/redis/reap-options.js';
import { rawMember } from '../../src/job/raw-json.js';
import { WorkerNode } from '../../src/core/worker-node.js';
import { silentLogger } from '../../src/util/logger.js';

let server: RedisServer;
let r: RedisServer['client'];

usePrivateRedis((s) => {
  server = s;
  r = s.client;
});

const sameBytes = (a: Buffer[], b: Buffer[]) => a.length === b.length && a.every((x, i) => x.equals(b[i]));

describe('QueueWorker + Settler', () => {
  it('acks the jobs that finish together in one script call, which also refills the freed slots', async () => {
    const ran: unknown[] = [];
    const kit = await workerKit(server.url, 'n-ack', fakeRegistry({ T: (args) => void ran.push(args[0]) }), { concurrency: 5 });
    const acks: { acked: number; refill: number; got: number }[] = [];
    let fetches = 0;
    const { ack, fetch } = kit.scripts;
    kit.scripts.ack = async (q, n, raws, refill) => {
      const res = await ack.call(kit.scripts, q, n, raws, refill);
      acks.push({ acked: raws.length, refill: refill ?? 0, got: res.jobs.length });
      return res;
    };
    kit.scripts.fetch = (...a) => {
      fetches++;
      return fetch.apply(kit.scripts, a);
    };
    try {
      for (let i = 1; i <= 20; i++) await r.lpush(keys.queue('q'), job(i));
      kit.worker.start();
      await waitFor(async () => (await r.get(keys.processed('q'))) === '20', { what: '20 jobs acked' });
      console.log('[measured] ack calls for 20 jobs at concurrency 5:', JSON.stringify(acks), 'fetch calls:', fetches);
      expect(ran).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(acks).toEqual([
        { acked: 5, refill: 5, got: 5 },
        { acked: 5, refill: 5, got: 5 },
        { acked: 5, refill: 5, got: 5 },
        { acked: 5, refill: 5, got: 0 },
      ]);
      expect(fetches).toBeLessThanOrEqual(2); // the first fetch, and the one that finds the queue empty
      expect(await r.llen(keys.inprogress('q', 'n-ack'))).toBe(0);
    } finally {
      await kit.close();
    }
  });

  it('a write refused because the node was reaped meanwhile fences the node and changes nothing', async () => {
    const hold = latch();
    // Concurrency 1: the fetch loop waits for a free slot, so the ack is the node's next write.
    const kit = await workerKit(server.url, 'n-fence', fakeRegistry({ T: () => hold.promise }), { concurrency: 1 });
    try {
      await r.lpush(keys.queue('q'), job(1));
      kit.worker.start();
      await waitFor(() => kit.worker.snapshot().length === 1, { what: 'the job to start' });
      // Another node's reaper takes this node's jobs back (forced: its heartbeat is still there).
      const reaper = new Scripts(r, keys);
      expect((await reaper.reapAll(reapOptions(testConfig(), 'n-fence', 'test', true))).moved).toBe(1);
      hold.open();
      await waitFor(() => kit.events.fenced.length > 0, { what: 'onFenced' });
      expect(kit.events.fenced[0]).toMatch(/ack refused: the node is no longer registered/);
      expect(kit.events.rejected).toBe(1);
      expect(await r.get(keys.processed())).toBeNull();
      expect(await r.lrange(keys.queue('q'), 0, -1)).toHaveLength(1);
    } finally {
      await kit.close();
    }
  });

  it('a payload that is not valid UTF-8 goes to dead as its exact bytes, and the LREM matched', async () => {
    const bytes = Buffer.concat([Buffer.from('{"class":"T","args":["'), Buffer.from([0xff, 0xc3, 0x28, 0x00]), Buffer.from('"],"jid":"bin1","queue":"q"}')]);
    const ran: unknown[] = [];
    const kit = await workerKit(server.url, 'n-bin', fakeRegistry({ T: (args) => void ran.push(args) }));
    try {
      await r.lpush(keys.queue('q'), bytes);
      kit.worker.start();
      await waitFor(async () => (await r.zcard(keys.dead)) === 1, { what: 'the payload in dead' });
      expect(sameBytes(await r.zrangeBuffer(keys.dead, 0, -1), [bytes])).toBe(true);
      expect(await r.llen(keys.inprogress('q', 'n-bin'))).toBe(0);
      expect(await r.llen(keys.queue('q'))).toBe(0);
      const [record] = await r.lrange(keys.malformed, 0, -1);
      expect(JSON.parse(record)).toMatchObject({ error: 'payload is not valid UTF-8', sha1: createHash('sha1').update(bytes).digest('hex') });
      expect(ran).toEqual([]);
      expect(kit.events.settled).toEqual(['dead']);
    } finally {
      await kit.close();
    }
  });

  it('args that are not an array: the job does not run; it goes to dead as Verk::InvalidArgs with its data', async () => {
    const payloads = [
      '{"class":"T","args":{"user":42},"jid":"bad1","queue":"q"}',
      '{"class":"T","args":null,"jid":"bad2","queue":"q"}',
      '{"class":"T","args":"{\\"user\\":42}","jid":"bad3","queue":"q"}',
    ];
    const ran: unknown[] = [];
    const kit = await workerKit(server.url, 'n-args', fakeRegistry({ T: (args) => void ran.push(args) }));
    try {
      for (const p of payloads) await r.lpush(keys.queue('q'), p);
      kit.worker.start();
      await waitFor(async () => (await r.zcard(keys.dead)) === 3, { what: '3 jobs in dead' });
      expect(ran).toEqual([]);
      const dead = new Map((await r.zrange(keys.dead, 0, -1)).map((d) => [JSON.parse(d).jid as string, d]));
      const bad1 = JSON.parse(dead.get('bad1')!);
      expect(bad1).toMatchObject({ error_class: 'Verk::InvalidArgs', retry_count: 0, args: { user: 42 } });
      expect(bad1.error_message).toBe('"args" must be an array, found an object: {"user":42}');
      expect(typeof bad1.failed_at).toBe('number');
      expect(JSON.parse(dead.get('bad2')!).error_message).toMatch(/found null/);
      expect(JSON.parse(dead.get('bad3')!).error_message).toMatch(/a string holding an object/);
      // The data is kept byte for byte.
      expect(rawMember(dead.get('bad3')!, 'args')).toBe(rawMember(payloads[2], 'args'));
      expect(await r.llen(keys.inprogress('q', 'n-args'))).toBe(0);
      expect(await r.get(keys.failed('q'))).toBe('3');
      expect(kit.events.settled.filter((s) => s === 'failed')).toHaveLength(3);
      expect(kit.events.settled.filter((s) => s === 'dead')).toHaveLength(3);
    } finally {
      await kit.close();
    }
  });
});

describe('WorkerNode', () => {
  const startNode = async (id: string, perform: (args: unknown[]) => unknown, concurrency = 3) => {
    const config = testConfig({ redisUrl: server.url, queues: [{ name: 'q', concurrency, timeout: 0 }] });
    await new Scripts(r, keys).register(id, 60_000, 60_000, { host: 'test' });
    const exits: string[] = [];
    const node = new WorkerNode(id, config, fakeRegistry({ T: perform }), silentLogger, { onExit: (reason) => void exits.push(reason) });
    node.start();
    return { node, exits };
  };

  it('after a reconnect, hands back a job whose fetch reply was lost (and only that one)', async () => {
    const hold = latch();
    const ran: unknown[] = [];
    const { node, exits } = await startNode(
      'n-recon',
      (args) => {
        ran.push(args[0]);
        return args[0] === 'hold' ? hold.promise : undefined;
      },
      2,
    );
    try {
      await r.lpush(keys.queue('q'), job('hold'));
      await waitFor(() => ran.includes('hold'), { what: 'the held job to start' });
      // The fetch script moved this job into the node's list, but its reply never arrived.
      const lost = Buffer.from(job('lost-ü', { note: 'caf\\u00e9' }));
      await r.lpush(keys.inprogress('q', 'n-recon'), lost);
      node.redis.disconnect(true);
      await waitFor(() => ran.includes('lost-ü'), { what: 'the lost job to be handed back and run' });
      await waitFor(async () => (await r.llen(keys.inprogress('q', 'n-recon'))) === 1, { what: 'only the held job in progress' });
      expect(await r.lrange(keys.inprogress('q', 'n-recon'), 0, -1)).toEqual([job('hold')]);
      hold.open();
      await waitFor(async () => (await r.get(keys.processed('q'))) === '2', { what: 'both acked' });
      expect(ran).toEqual(['hold', 'lost-ü']);
      expect(await r.llen(keys.inprogress('q', 'n-recon'))).toBe(0);
      await node.shutdown(1000);
      expect(exits).toEqual(['shutdown']);
    } finally {
      hold.open();
    }
  });

  it('at the shutdown deadline hands unfinished jobs back to the front of their queue, byte for byte', async () => {
    const hold = latch();
    const ran: unknown[] = [];
    const payloads = [1, 2, 3, 4, 5].map((i) =>
      Buffer.from(`{ "class" : "T", "args": [${i}, 12345678901234567890123, "\\u00e9ü", {}, []], "jid": "h${i}", "queue": "q" }`),
    );
    for (const p of payloads) await r.lpush(keys.queue('q'), p);
    const before = await r.lrangeBuffer(keys.queue('q'), 0, -1);
    const { node, exits } = await startNode(
      'n-dead',
      (args) => {
        ran.push(args[0]);
        return hold.promise; // ignores its signal
      },
      3,
    );
    try {
      await waitFor(() => ran.length === 3, { what: '3 jobs running' });
      await node.shutdown(150);
      expect(exits).toEqual(['shutdown']);
      expect(ran).toEqual([1, 2, 3]);
      // The queue is exactly as it was: the three handed-back jobs next in line, in their order.
      expect(sameBytes(await r.lrangeBuffer(keys.queue('q'), 0, -1), before)).toBe(true);
      expect(await r.llen(keys.inprogress('q', 'n-dead'))).toBe(0);
      expect(await r.get(keys.processed())).toBeNull();
    } finally {
      hold.open();
    }
  });
});
