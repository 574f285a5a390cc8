// Chaos for cluster-wide limits (issue 14, "Prove it", the limits part, bounded for CI): four
// `verk work` processes serve a queue limited to 2 running jobs per key over 6 keys while, every
// ~2 s, a random one is killed with SIGKILL and replaced, or (every third round) frozen with
// SIGSTOP past its node TTL and thawed: a zombie, reaped while frozen, its jobs run elsewhere, its
// late acks refused. The record (attempt starts and ends by Redis TIME from
// test/fixtures/jobs/Leased.js, the fencing events) is checked offline by the shared checker
// (test/helpers/lease-checker.ts: an attempt on a killed or frozen node counts as running until its
// node was fenced — zombies counted until fenced). Pass: never more than 2 running per key; no job
// lost; a job run again only after its node was fenced; no key with a backlog and nothing running
// for longer than the recovery time (node TTL + reaper interval + the limited idle wait + 1 s);
// every slot free at the end. The randomness is seeded and printed (LIMITS_CHAOS_SEED=<seed>);
// LIMITS_CHAOS_ROUNDS=<n> runs longer (figures in docs/limits.md).
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { signalGroup, startWorker } from '../helpers/cli.js';
import { TEST_INTERVALS, usePrivateRedis, workArgs, workEnv } from '../helpers/e2e.js';
import { attemptsOf, checkConcurrency, checkReruns, longestIdleBacklog } from '../helpers/lease-checker.js';
import { readLeaseRecord, redisNow } from '../helpers/lease-record.js';
import { rng } from '../helpers/rng.js';
import { freezePastTtl, killAndReplace } from '../helpers/chaos.js';
import { waitFor } from '../helpers/wait.js';
import { LIMITS } from '../../src/config/defaults.js';

let server: RedisServer;
usePrivateRedis((s) => {
  server = s;
});

const Q = 'lim';
const LIMIT = 2;
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('limits chaos', () => {
  it('4 nodes, random kill -9 and restart, a node frozen past its TTL: never more than 2 running per key, no job lost, no key starved past the recovery time', async () => {
    const seed = Number(process.env.LIMITS_CHAOS_SEED ?? Date.now() % 1_000_000);
    const rounds = Number(process.env.LIMITS_CHAOS_ROUNDS ?? 4);
    const random = rng(seed);
    const total = 200 + rounds * 60;
    const jobs = Array.from({ length: total }, (_, n) =>
      JSON.stringify({ class: 'Leased', args: [{ key: KEYS[n % KEYS.length], sleepMs: 80 + Math.floor(random() * 120) }], jid: `lc${n}`, queue: Q, retry: true }),
    );
    for (let i = 0; i < jobs.length; i += 100) await server.client.lpush(`queue:${Q}`, ...jobs.slice(i, i + 100));
    const t0 = await redisNow(server.client);
    const enqueued = jobs.map((_, n) => ({ jid: `lc${n}`, key: KEYS[n % KEYS.length], t: t0 }));
    const limits = JSON.stringify({ [Q]: { key: 'args[0].key', concurrency: LIMIT } });
    const start = () => startWorker(workArgs(server, ['--processes', '1', '--queues', `${Q}:4`, '--limits', limits]), { env: workEnv(server) });
    const nodes = [start(), start(), start(), start()];
    const all = [...nodes];
    const log: string[] = [];
    try {
      await waitFor(async () => (await server.client.llen('test:leases')) >= 20, { what: 'the first jobs', timeoutMs: 30_000 });
      for (let round = 0; round < rounds; round++) {
        const i = Math.floor(random() * nodes.length);
        if (round % 3 === 1) log.push(`froze node ${i} for ${await freezePastTtl(nodes[i].pid!)} ms`);
        else {
          await killAndReplace(nodes, i, start, all);
          log.push(`killed -9 node ${i}`);
        }
        await sleep(1500 + Math.floor(random() * 1000));
      }
      await waitFor(async () => (await server.client.hlen('test:done')) >= total, { what: 'every job done', timeoutMs: 90_000 });
      await waitFor(async () => (await server.client.hlen(`verk:limit:${Q}:held`)) === 0, { what: 'every slot free', timeoutMs: 10_000 });
    } finally {
      for (const w of nodes) signalGroup(w.pid!, 'SIGTERM');
      await Promise.all(all.map((w) => w.catch(() => undefined)));
    }
    const record = await readLeaseRecord(server.client);
    const attempts = attemptsOf(record.attempts, record.fences, record.end);
    const concurrency = checkConcurrency(attempts, () => LIMIT);
    const worst = Math.max(...concurrency.maxRunning.values());
    const done = new Set(await server.client.hkeys('test:done'));
    const lost = enqueued.filter((e) => !done.has(e.jid));
    const { reruns, unexplained } = checkReruns(attempts, record.fences);
    const fencedAttempts = attempts.filter((a) => a.endedBy === 'fence').length;
    // The whole backlog is there before the fleet is up: it counts from the first start.
    const firstStart = Math.min(...attempts.map((a) => a.start));
    const idle = longestIdleBacklog(
      attempts,
      enqueued.map((e) => ({ ...e, t: Math.max(e.t, firstStart) })),
      record.end,
    );
    const longestIdle = Math.max(...idle.values());
    const recoveryMs = TEST_INTERVALS.nodeTtlMs + TEST_INTERVALS.reaperMs + LIMITS.idleWaitMs + 1000;
    console.log(
      `[measured] limits chaos (seed ${seed}): ${log.join('; ')}. ${total} jobs, ${lost.length} lost, ${attempts.length} attempts, at most ${worst} running per key (limit ${LIMIT}); ` +
        `${reruns.length - unexplained.length} re-run after their node was fenced (${fencedAttempts} attempts counted until a fencing), ${unexplained.length} re-run otherwise; ` +
        `longest time a key with a backlog had nothing running: ${Math.round(longestIdle)} ms (bound ${recoveryMs} ms)`,
    );
    expect(concurrency.violations).toEqual([]);
    expect(lost).toEqual([]);
    expect(unexplained).toEqual([]);
    expect(longestIdle).toBeLessThan(recoveryMs);
  }, 180_000);
});
