// The Settler's acks against a private redis-server: a batch over SCRIPT_BOUNDS' count or byte cap
// goes out as several script calls (counted in INFO commandstats), every job is acked exactly
// once, a job whose expected position is wrong is found by its bytes (never acked wrongly), and a
// job the node no longer holds is counted as refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { SCRIPT_BOUNDS } from '../../src/config/defaults.js';
import { Settler, type RunningEntry } from '../../src/core/settler.js';
import type { Scripts } from '../../src/redis/scripts.js';
import { silentLogger } from '../../src/util/logger.js';
import { testConfig } from '../helpers/config.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { useScriptsServer } from '../helpers/scripts-server.js';

const NODE = 'n1';

const ctx = useScriptsServer(async ({ scripts }) => {
  await scripts.register(NODE, 60_000, 60_000, { host: 'test' });
});
const keys = ctx.keys;
let server: RedisServer;
let scripts: Scripts;
beforeAll(() => {
  ({ server, scripts } = ctx);
});

const payload = (i: number, size: number) => JSON.stringify({ class: 'T', args: ['x'.repeat(size)], jid: `j${i}`, queue: 'q' });

/** A Settler with recorded events and no refill. */
function settler() {
  const seen = { rejected: 0, fenced: [] as string[] };
  const s = new Settler(
    'q',
    NODE,
    testConfig(),
    scripts,
    silentLogger,
    { onFenced: (r) => seen.fenced.push(r), onRejected: (n) => (seen.rejected += n), onSettled: () => undefined },
    { want: () => 0, epoch: () => 0, take: () => undefined },
  );
  return { s, seen };
}

/** Fetches `n` jobs of `size` bytes as a worker would, and the entries it would run. */
async function fetched(n: number, size: number): Promise<RunningEntry[]> {
  for (let i = 0; i < n; i += 100) await server.client.lpush(keys.queue('q'), ...Array.from({ length: Math.min(100, n - i) }, (_, j) => payload(i + j, size)));
  const out: RunningEntry[] = [];
  while (out.length < n) {
    const r = await scripts.fetch('q', NODE, n - out.length, out.length === 0);
    for (const raw of r.jobs) out.push({ raw, text: raw.toString(), jid: '', class: 'T', queue: 'q', startedAt: Date.now(), started: true, closed: false });
  }
  return out;
}

const ackCalls = async () => {
  const stats = await server.client.info('commandstats');
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0) + Number(/cmdstat_eval:calls=(\d+)/.exec(stats)?.[1] ?? 0);
};

describe('Settler acks within SCRIPT_BOUNDS', () => {
  it('splits a batch over the count cap into several calls and acks every job once', async () => {
    const n = SCRIPT_BOUNDS.ackMaxJobs * 2 + 20;
    const entries = await fetched(n, 100);
    const { s, seen } = settler();
    for (const e of entries) s.hold(e);
    await server.client.config('RESETSTAT');
    await Promise.all(entries.map((e) => s.ack(e)));
    expect(await ackCalls()).toBe(3);
    expect(await server.client.llen(keys.inprogress('q', NODE))).toBe(0);
    expect(await server.client.get('stat:processed')).toBe(String(n));
    expect(seen.rejected).toBe(0);
  });

  it('splits by bytes too: big payloads named by hash, a few per call, nothing sent back', async () => {
    const size = SCRIPT_BOUNDS.ackByHashFromBytes + 1000;
    const entries = await fetched(60, size);
    const { s, seen } = settler();
    for (const e of entries) s.hold(e);
    await server.client.config('RESETSTAT');
    await Promise.all(entries.map((e) => s.ack(e)));
    const perCall = Math.floor(SCRIPT_BOUNDS.ackMaxBytes / entries[0].raw.length);
    expect(await ackCalls()).toBe(Math.ceil(60 / perCall));
    const stats = await server.client.info('stats');
    // What the acks sent: specs and markers, not the 60 big payloads.
    expect(Number(/total_net_input_bytes:(\d+)/.exec(stats)?.[1])).toBeLessThan(60 * 400);
    expect(await server.client.llen(keys.inprogress('q', NODE))).toBe(0);
    expect(seen.rejected).toBe(0);
  });

  it('positions gone wrong cost a fallback by bytes, never a wrong ack; a job not held is refused', async () => {
    const entries = await fetched(30, 3000);
    const { s, seen } = settler();
    // Held in the wrong order: every position from the tail is off.
    for (const e of [...entries].reverse()) s.hold(e);
    const stranger: RunningEntry = { ...entries[0], raw: Buffer.from(payload(999, 3000)), text: undefined, closed: false };
    s.hold(stranger);
    await Promise.all([...entries.slice(0, 20), stranger].map((e) => s.ack(e)));
    const left = await server.client.lrangeBuffer(keys.inprogress('q', NODE), 0, -1);
    expect(left.map((b) => b.toString()).sort()).toEqual(
      entries
        .slice(20)
        .map((e) => e.raw.toString())
        .sort(),
    );
    expect(await server.client.get('stat:processed')).toBe('20');
    expect(seen.rejected).toBe(1);
    expect(seen.fenced).toEqual([]);
  });
});
