// Chaos for everything a fleet shares (issue 14, "Prove it", bounded for CI): four `verk work`
// processes share an every-second cron entry and a queue of keyed jobs while, every ~2.5 s, a
// random one is killed with SIGKILL and replaced; one is frozen (SIGSTOP) past its node TTL and
// thawed; Redis itself is killed and restarted (AOF, fsync always). The record (attempt starts
// and ends by Redis TIME from test/fixtures/jobs/Leased.js, the reaper's fencing events, the
// enqueues) is checked offline by test/helpers/lease-checker.ts. Pass: cron — one job per tick
// id, 0 duplicates, 0 seconds left out, nothing skipped or missed; jobs — none lost, none run
// again but after its node was fenced; no key waits with a backlog and nothing running longer
// than the recovery time (plus the Redis outage).
// The randomness is seeded and printed (FLEET_CHAOS_SEED=<seed> replays it). The long variant:
// FLEET_CHAOS_ROUNDS=60 npx vitest run test/fault/fleet-leases-chaos.test.ts (a freeze and a
// Redis restart every 5 rounds; figures in docs/cron.md and docs/reliability.md).
import { describe, expect, it } from 'vitest';
import type { Client } from '../../src/api/client.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { signalGroup, startWorker } from '../helpers/cli.js';
import { TEST_INTERVALS, usePrivateRedis, workArgs, workEnv } from '../helpers/e2e.js';
import { attemptsOf, checkTicks, longestIdleBacklog } from '../helpers/lease-checker.js';
import { outageFences, readLeaseRecord, redisNow } from '../helpers/lease-record.js';
import { waitFor } from '../helpers/wait.js';

let server: RedisServer;
let client: Client;
usePrivateRedis(
  (s, c) => {
    server = s;
    client = c;
    // The test's own connections see the Redis restart too: quietly (they reconnect by themselves).
    server.client.on('error', () => undefined);
  },
  { appendonly: true },
);

const CRON = JSON.stringify({ tick: { class: 'Count', schedule: '* * * * * *', queue: 'cron-ledger' } });
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small seeded generator (mulberry32): the run can be replayed from the printed seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function cronRecord() {
  const ticks = (await server.client.lrange('queue:cron-ledger', 0, -1)).map((j) => (JSON.parse(j) as { cron: { tick: number } }).cron.tick);
  const events = (await server.client.lrange('verk:cron:tick:history', 0, -1)).map((h) => JSON.parse(h) as Record<string, unknown>);
  return { ticks, events };
}

describe('fleet leases chaos', () => {
  it(
    '4 nodes, random kill -9 and restart, one frozen past its TTL, one Redis restart: one job per tick, no job lost, none run twice but after a fencing',
    async () => {
      const seed = Number(process.env.FLEET_CHAOS_SEED ?? Date.now() % 1_000_000);
      const rounds = Number(process.env.FLEET_CHAOS_ROUNDS ?? 6);
      const random = rng(seed);
      // The producer's own generator: the chaos schedule does not depend on how many jobs it made.
      const pickKey = rng(seed + 1);
      const start = () => startWorker(workArgs(server, ['--processes', '1', '--queues', 'leased:3', '--cron', CRON]), { env: workEnv(server) });
      const nodes = [start(), start(), start(), start()];
      const all = [...nodes];
      const log: string[] = [];
      const enqueued: { jid: string; key: string; t: number }[] = [];
      let redisDownMs = 0;
      /** Redis outages (Redis TIME just before the kill and just after the restart). */
      const outages: { from: number; to: number }[] = [];
      // The producer: keyed jobs of 50–250 ms all along, paused while Redis is down (an enqueue
      // whose reply is lost in a restart could not be told from one that never happened).
      let producing = true;
      let paused = false;
      const producer = (async () => {
        let i = 0;
        while (producing) {
          if (paused) {
            await sleep(50);
            continue;
          }
          const key = KEYS[Math.floor(pickKey() * KEYS.length)];
          const jid = await client.enqueue({ class: 'Leased', queue: 'leased', args: [{ key, sleepMs: 50 + ((i * 37) % 200) }] });
          enqueued.push({ jid, key, t: await redisNow(server.client) });
          i++;
          await sleep(40);
        }
      })();
      try {
        await waitFor(async () => (await cronRecord()).ticks.length >= 3, { what: 'three ticks', timeoutMs: 30_000 });
        for (let round = 0; round < rounds; round++) {
          const i = Math.floor(random() * nodes.length);
          if (round % 5 === 2) {
            // Frozen past its TTL: peers reap its worker node; it resumes with stale plans and jobs.
            signalGroup(nodes[i].pid!, 'SIGSTOP');
            await sleep(TEST_INTERVALS.nodeTtlMs + 1500);
            signalGroup(nodes[i].pid!, 'SIGCONT');
            log.push(`froze node ${i} for ${TEST_INTERVALS.nodeTtlMs + 1500} ms`);
          } else if (round % 5 === 4) {
            paused = true;
            await sleep(100);
            const t0 = Date.now();
            const from = await redisNow(server.client);
            await server.restart(2500);
            outages.push({ from, to: await redisNow(server.client) });
            redisDownMs = Math.max(redisDownMs, Date.now() - t0);
            paused = false;
            log.push(`restarted Redis (${Date.now() - t0} ms down)`);
          } else {
            signalGroup(nodes[i].pid!, 'SIGKILL');
            await nodes[i].catch(() => undefined);
            nodes[i] = start();
            all.push(nodes[i]);
            log.push(`killed -9 node ${i} and started a new one`);
          }
          await sleep(1500 + Math.floor(random() * 2000));
        }
        producing = false;
        await producer;
        const last = Math.max(...(await cronRecord()).ticks);
        await waitFor(async () => (await cronRecord()).ticks.filter((t) => t > last).length >= 3, { what: 'three ticks after the chaos', timeoutMs: 40_000 });
        await waitFor(async () => (await server.client.hlen('test:done')) >= enqueued.length, { what: 'every keyed job done', timeoutMs: 60_000 });
      } finally {
        producing = false;
        await producer.catch(() => undefined);
        for (const w of nodes) signalGroup(w.pid!, 'SIGTERM');
        await Promise.all(all.map((w) => w.catch(() => undefined)));
      }

      // Cron: one job per tick id, none left out, nothing missed or skipped.
      const { ticks, events } = await cronRecord();
      const tickReport = checkTicks(ticks, 1);
      const fired = events.filter((e) => e.outcome === 'fired');
      const lags = fired.map((e) => Number(e.lag_ms)).sort((a, b) => a - b);
      const notFired = events.filter((e) => e.outcome === 'missed' || e.outcome === 'skipped');

      // Keyed jobs: every one done; a second attempt only after the first one's node was fenced.
      const record = await readLeaseRecord(server.client);
      record.fences.push(...outageFences(record.attempts, outages, TEST_INTERVALS.nodeTtlMs));
      const attempts = attemptsOf(record.attempts, record.fences, record.end);
      const done = new Set(await server.client.hkeys('test:done'));
      const lost = enqueued.filter((e) => !done.has(e.jid));
      const byJid = new Map<string, typeof attempts>();
      for (const a of attempts) byJid.set(a.jid, [...(byJid.get(a.jid) ?? []), a]);
      // An attempt is run again only when its node was fenced after it started (killed or frozen
      // before its ack landed: the reaper gave the job back) or it was handed back unfinished.
      const fencedDuring = (a: (typeof attempts)[number]) => record.fences.some((f) => f.node === a.node && f.t >= a.start);
      const reruns = [...byJid.values()].filter((l) => l.length > 1);
      const unexplained = reruns.filter((l) => l.slice(0, -1).some((a) => a.finished && !fencedDuring(a)));
      if (unexplained.length > 0) {
        const outputs = await Promise.all(all.map((w) => w.catch((e) => e)));
        const fleet = (await server.client.lrange('verk:events', 0, -1)).map((e) => JSON.parse(e));
        for (const l of unexplained) {
          console.log(`[unexplained re-run] ${JSON.stringify(l)}`);
          for (const o of outputs)
            for (const line of `${o.stdout ?? ''}\n${o.stderr ?? ''}`.split('\n'))
              if (l.some((a) => line.includes(a.node)) || line.includes(l[0].jid)) console.log(`  [log] ${line.slice(0, 400)}`);
          console.log(`  [fleet] ${JSON.stringify(fleet.filter((e) => Math.abs(Number(e.at) * 1000 - l[0].start) < 10_000)).slice(0, 3000)}`);
        }
      }
      const rerunsAfterFence = reruns.length - unexplained.length;
      const rerunsUnexplained = unexplained.length;
      // Recovery: a dead node's jobs are back within TTL + reaper interval; allow the Redis outage and a margin for a loaded box.
      const recoveryBoundMs = TEST_INTERVALS.nodeTtlMs + TEST_INTERVALS.reaperMs + TEST_INTERVALS.blockMs + redisDownMs + 3000;
      const idle = longestIdleBacklog(attempts, enqueued, record.end);
      const longestIdle = Math.max(...idle.values());

      const summary =
        rounds > 10
          ? `${rounds} rounds: ${log.filter((l) => l.startsWith('killed')).length} kills, ${log.filter((l) => l.startsWith('froze')).length} freezes, ${log.filter((l) => l.startsWith('restarted')).length} Redis restarts`
          : log.join('; ');
      console.log(
        `[measured] fleet leases chaos (seed ${seed}): ${summary}. cron: ${ticks.length} ticks, ${tickReport.duplicates} duplicates, ${tickReport.holes.length} left out, ` +
          `${notFired.length} missed/skipped, lag median ${lags[Math.floor(lags.length / 2)]} ms, max ${lags[lags.length - 1]} ms. ` +
          `jobs: ${enqueued.length} enqueued, ${lost.length} lost, ${attempts.length} attempts, ${rerunsAfterFence} re-run after a fencing, ${rerunsUnexplained} re-run otherwise, ` +
          `${record.fences.length} fencings; longest idle backlog ${longestIdle} ms (bound ${recoveryBoundMs} ms)`,
      );
      expect(tickReport.duplicates).toBe(0);
      expect(tickReport.holes).toEqual([]);
      expect(notFired).toEqual([]);
      if (events.length < 100) expect(events.filter((e) => e.outcome === 'armed')).toHaveLength(1);
      expect(lost).toEqual([]);
      expect(rerunsUnexplained).toBe(0);
      expect(longestIdle).toBeLessThan(recoveryBoundMs);
    },
    150_000 + Number(process.env.FLEET_CHAOS_ROUNDS ?? 0) * 7000,
  );
});
