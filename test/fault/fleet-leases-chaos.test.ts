// Chaos for everything a fleet shares (issue 14, "Prove it", bounded for CI), all three at once:
// four `verk work` processes share two cron entries (every second; and a skip-if-running one of
// 1.2 s jobs), a limited queue of keyed jobs (at most 2 running per key fleet-wide) and a queue of
// until-done unique jobs, while every ~2.5 s a random node is killed with SIGKILL and replaced, one
// is frozen (SIGSTOP) past its node TTL and thawed, and Redis itself is killed and restarted (AOF,
// fsync always). The record — attempt starts and ends by Redis TIME (test/fixtures/jobs/Leased.js),
// the reaper's and supervisors' fencing events, the producers' enqueues and their answers, the
// sampled unique locks — is checked offline by test/helpers/lease-checker.ts. Pass: cron — one job
// per tick id, 0 duplicates, 0 seconds left out, nothing missed or skipped, skip-if-running runs
// never overlap; limits — never more than 2 of one key running (a run counts until its node was
// fenced), no key with a backlog and nothing running for longer than the recovery time; unique —
// never two owners of one key, every refusal names a live owner, no lock left past the sweep;
// jobs — none lost, none run again but after its node was fenced.
// The randomness is seeded and printed (FLEET_CHAOS_SEED=<seed> replays it). The long variant:
// FLEET_CHAOS_ROUNDS=30 npx vitest run test/fault/fleet-leases-chaos.test.ts (a freeze and a
// Redis restart every 5 rounds; figures in docs/reliability.md).
import { describe, expect, it } from 'vitest';
import type { Client } from '../../src/api/client.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { signalGroup, startWorker } from '../helpers/cli.js';
import { TEST_INTERVALS, usePrivateRedis, workArgs, workEnv } from '../helpers/e2e.js';
import { attemptsOf, checkConcurrency, checkReruns, checkTicks, checkUnique, longestIdleBacklog, ownershipsOf } from '../helpers/lease-checker.js';
import { noteEnqueue, outageFences, readLeaseRecord, redisNow, sampleLock } from '../helpers/lease-record.js';
import { newJid } from '../../src/job/jid.js';
import { waitFor } from '../helpers/wait.js';
import { rng } from '../helpers/rng.js';
import { freezePastTtl, killAndReplace } from '../helpers/chaos.js';

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

// `tick` fires every second into a queue no one serves (its jobs are the record); `solo` fires
// 1.2 s jobs every second with skip-if-running: its runs must never overlap.
const CRON = JSON.stringify({
  tick: { class: 'Count', schedule: '* * * * * *', queue: 'cron-ledger' },
  solo: { class: 'Leased', schedule: '* * * * * *', queue: 'leased', overlap: 'skip-if-running', args: [{ key: 'cron-solo', sleepMs: 1200 }] },
});
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
/** The limited queue: at most 2 jobs of one key running fleet-wide. */
const LIMITS = JSON.stringify({ leased: { key: 'args[0].key', concurrency: 2 } });
const PER_KEY = 2;
/** Unique jobs (until done) on these keys, in a queue of their own. */
const UNIQUE_KEYS = ['u0', 'u1', 'u2'];
const unique = { key: (a: unknown[]) => `uq:${(a[0] as { key: string }).key}`, until: 'done' as const };
const SWEEP_MS = 500;
const GRACE_MS = 1000;
/** Between a handler's end record and the ack that releases its lock, a refusal is right. */
const SLACK_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cronRecord() {
  const ticks = (await server.client.lrange('queue:cron-ledger', 0, -1)).map((j) => (JSON.parse(j) as { cron: { tick: number } }).cron.tick);
  const events = (await server.client.lrange('verk:cron:tick:history', 0, -1)).map((h) => JSON.parse(h) as Record<string, unknown>);
  return { ticks, events };
}

describe('fleet leases chaos', () => {
  it(
    '4 nodes, random kill -9 and restart, one frozen past its TTL, one Redis restart: one job per tick, at most the limit per key, one owner per unique key, no job lost, none run twice but after a fencing',
    async () => {
      const seed = Number(process.env.FLEET_CHAOS_SEED ?? Date.now() % 1_000_000);
      const rounds = Number(process.env.FLEET_CHAOS_ROUNDS ?? 6);
      const random = rng(seed);
      // The producer's own generator: the chaos schedule does not depend on how many jobs it made.
      const pickKey = rng(seed + 1);
      const flags = ['--processes', '1', '--queues', 'leased:3,uniq:2', '--cron', CRON, '--limits', LIMITS];
      flags.push('--unique-sweep-interval', `${SWEEP_MS}ms`, '--unique-sweep-grace', `${GRACE_MS}ms`);
      const start = () => startWorker(workArgs(server, flags), { env: workEnv(server) });
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
      // The unique producer: the same few keys in a loop; each answer noted with Redis TIME.
      const pickUnique = rng(seed + 2);
      const uniqueProducer = (async () => {
        while (producing) {
          if (paused) {
            await sleep(50);
            continue;
          }
          const key = UNIQUE_KEYS[Math.floor(pickUnique() * UNIQUE_KEYS.length)];
          const jid = newJid();
          const r = await client.push({ class: 'Leased', queue: 'uniq', jid, args: [{ key, sleepMs: 100 + Math.floor(pickUnique() * 300) }], unique });
          await noteEnqueue(server.client, { key: `uq:${key}`, jid, got: r.jid });
          await sleep(30);
        }
      })();
      const sampler = (async () => {
        while (producing) {
          if (!paused) for (const k of UNIQUE_KEYS) await sampleLock(server.client, `uq:${k}`, `verk:unique:uq:${k}`);
          await sleep(250);
        }
      })();
      try {
        await waitFor(async () => (await cronRecord()).ticks.length >= 3, { what: 'three ticks', timeoutMs: 30_000 });
        for (let round = 0; round < rounds; round++) {
          const i = Math.floor(random() * nodes.length);
          if (round % 5 === 2) {
            // Frozen past its TTL: peers reap its worker node; it resumes with stale plans and jobs.
            log.push(`froze node ${i} for ${await freezePastTtl(nodes[i].pid!)} ms`);
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
            await killAndReplace(nodes, i, start, all);
            log.push(`killed -9 node ${i} and started a new one`);
          }
          await sleep(1500 + Math.floor(random() * 2000));
        }
        producing = false;
        await Promise.all([producer, uniqueProducer, sampler]);
        const last = Math.max(...(await cronRecord()).ticks);
        await waitFor(async () => (await cronRecord()).ticks.filter((t) => t > last).length >= 3, { what: 'three ticks after the chaos', timeoutMs: 40_000 });
        await waitFor(async () => (await server.client.hlen('test:done')) >= enqueued.length, { what: 'every keyed job done', timeoutMs: 60_000 });
        await waitFor(async () => (await server.client.keys('verk:unique:uq:*')).length === 0, { what: 'every unique job done', timeoutMs: 60_000 });
      } finally {
        producing = false;
        await Promise.all([producer, uniqueProducer, sampler].map((p) => p.catch(() => undefined)));
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
      // An attempt is run again only when its node was fenced after it started (killed or frozen
      // before its ack landed: the reaper gave the job back) or it was handed back unfinished.
      const { reruns, unexplained } = checkReruns(attempts, record.fences);
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
      // Limits: at most PER_KEY of one key running at once (zombies counted until fenced).
      const keyed = attempts.filter((a) => KEYS.includes(a.key));
      const limit = checkConcurrency(keyed, () => PER_KEY);
      const maxPerKey = Math.max(...limit.maxRunning.values());
      // Unique: one owner per key, refusals name owners, no stale lock.
      const uniqueEnqueues = record.enqueues;
      const owners = ownershipsOf(uniqueEnqueues, attempts, 'done', record.end);
      const uniq = checkUnique(owners, uniqueEnqueues, record.locks, { slackMs: SLACK_MS, sweepMs: SWEEP_MS * 1.2 + GRACE_MS });
      const accepted = uniqueEnqueues.filter((e) => e.got === e.jid);
      const unfinished = accepted.filter((e) => !attempts.some((a) => a.jid === e.jid && a.finished));
      for (const l of uniq.staleLocks)
        console.log(
          `[stale lock] ${JSON.stringify(l)}: ${JSON.stringify(owners.find((o) => o.jid === l.holder))} ${JSON.stringify(attempts.filter((a) => a.jid === l.holder))}`,
        );
      // skip-if-running: the entry's runs never overlap (a run on a node counts until its fencing).
      const solo = attempts.filter((a) => a.key === 'cron-solo');
      const soloOverlaps = checkConcurrency(solo, () => 1).violations;
      const soloSkips = (await server.client.lrange('verk:cron:solo:history', 0, -1)).filter((h) => JSON.parse(h).outcome === 'skipped').length;
      const longestIdle = Math.max(...idle.values());

      const summary =
        rounds > 10
          ? `${rounds} rounds: ${log.filter((l) => l.startsWith('killed')).length} kills, ${log.filter((l) => l.startsWith('froze')).length} freezes, ${log.filter((l) => l.startsWith('restarted')).length} Redis restarts`
          : log.join('; ');
      console.log(
        `[measured] fleet leases chaos (seed ${seed}): ${summary}. cron: ${ticks.length} ticks, ${tickReport.duplicates} duplicates, ${tickReport.holes.length} left out, ` +
          `${notFired.length} missed/skipped, lag median ${lags[Math.floor(lags.length / 2)]} ms, max ${lags[lags.length - 1]} ms. ` +
          `jobs: ${enqueued.length} enqueued, ${lost.length} lost, ${attempts.length} attempts, ${rerunsAfterFence} re-run after a fencing, ${rerunsUnexplained} re-run otherwise, ` +
          `${record.fences.length} fencings; longest idle backlog ${longestIdle} ms (bound ${recoveryBoundMs} ms). ` +
          `skip-if-running: ${new Set(solo.map((a) => a.jid)).size} runs (${solo.length} attempts), ${soloSkips} ticks skipped, ${soloOverlaps.length} overlaps. ` +
          `limits: at most ${maxPerKey} of one key running (limit ${PER_KEY}), ${limit.violations.length} violations. ` +
          `unique: ${uniqueEnqueues.length} enqueues (${accepted.length} accepted), ${uniq.twoOwners.length} two owners, ${uniq.wrongRefusals.length} wrong refusals, ` +
          `${uniq.staleLocks.length} stale of ${record.locks.length} lock samples, ${unfinished.length} unfinished`,
      );
      expect(tickReport.duplicates).toBe(0);
      expect(tickReport.holes).toEqual([]);
      expect(notFired).toEqual([]);
      if (events.length < 100) expect(events.filter((e) => e.outcome === 'armed')).toHaveLength(1);
      expect(lost).toEqual([]);
      expect(rerunsUnexplained).toBe(0);
      expect(longestIdle).toBeLessThan(recoveryBoundMs);
      expect(soloOverlaps).toEqual([]);
      expect(limit.violations).toEqual([]);
      expect(uniq).toEqual({ twoOwners: [], wrongRefusals: [], staleLocks: [] });
      expect(unfinished).toEqual([]);
      expect(accepted.length).toBeGreaterThan(10);
      expect(new Set(solo.map((a) => a.jid)).size).toBeGreaterThan(3);
    },
    150_000 + Number(process.env.FLEET_CHAOS_ROUNDS ?? 0) * 7000,
  );
});
