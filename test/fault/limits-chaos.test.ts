// Chaos for cluster-wide limits (issue 14, "Prove it", the limits part, bounded for CI): four
// `verk work` processes serve a queue limited to 2 running jobs per account over 6 accounts while,
// every ~2 s, a random one is killed with SIGKILL and replaced, or (every third round) frozen with
// SIGSTOP past its node TTL and thawed: a zombie, reaped while frozen, its jobs run elsewhere, its
// late acks refused. The handler (test/fixtures/jobs/Limited.js) stamps each execution's start and
// end with Redis TIME into a ledger, checked offline: an execution on a killed or frozen node counts
// as running until the reap event of that node (verk:recoveries, Redis time); what a zombie does
// after it is the documented zombie window. Pass: never more than 2 running per account; every job
// done, once, except those that were running on a killed or frozen node (recovered and run again,
// at-least-once); no account left with work waiting and nothing running for longer than the
// recovery time (node TTL + reaper interval + the limited idle wait + 1 s margin); all slots free at
// the end. The randomness is seeded and printed (LIMITS_CHAOS_SEED=<seed>); LIMITS_CHAOS_ROUNDS=<n>
// runs longer.
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { signalGroup, startWorker } from '../helpers/cli.js';
import { TEST_INTERVALS, usePrivateRedis, workArgs, workEnv } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';
import { rng } from '../helpers/rng.js';
import { LIMITS } from '../../src/config/defaults.js';

let server: RedisServer;
usePrivateRedis((s) => {
  server = s;
});

const Q = 'lim';
const LIMIT = 2;
const ACCOUNTS = ['a', 'b', 'c', 'd', 'e', 'f'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Exec {
  jid: string;
  account: string;
  spid: number;
  start: number;
  end?: number;
}

async function ledger(): Promise<Exec[]> {
  const byId = new Map<string, Exec>();
  for (const line of await server.client.lrange('test:limit:ledger', 0, -1)) {
    const [what, jid, account, spid, id, s, us] = line.split('|');
    const t = Number(s) * 1000 + Number(us) / 1000;
    const e = byId.get(id) ?? { jid, account, spid: Number(spid), start: NaN };
    if (what === 'start') e.start = t;
    else e.end = t;
    byId.set(id, e);
  }
  return [...byId.values()];
}

describe('limits chaos', () => {
  it('4 nodes, random kill -9 and restart: never more than 2 running per account, no job lost, no account starved past the recovery time', async () => {
    const seed = Number(process.env.LIMITS_CHAOS_SEED ?? Date.now() % 1_000_000);
    const rounds = Number(process.env.LIMITS_CHAOS_ROUNDS ?? 4);
    const random = rng(seed);
    const total = 200 + rounds * 60;
    const jobs = Array.from({ length: total }, (_, n) =>
      JSON.stringify({
        class: 'Limited',
        args: [{ account: ACCOUNTS[n % ACCOUNTS.length], sleepMs: 80 + Math.floor(random() * 120) }],
        jid: `lc${n}`,
        queue: Q,
        retry: true,
      }),
    );
    for (let i = 0; i < jobs.length; i += 100) await server.client.lpush(`queue:${Q}`, ...jobs.slice(i, i + 100));
    const limits = JSON.stringify({ [Q]: { key: 'args[0].account', concurrency: LIMIT } });
    const start = () => startWorker(workArgs(server, ['--processes', '1', '--queues', `${Q}:4`, '--limits', limits]), { env: workEnv(server) });
    const nodes = [start(), start(), start(), start()];
    const all = [...nodes];
    // Which supervisor ran which node (to end a killed node's executions at its reap event).
    const nodeOf = new Map<string, number>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const id of await server.client.smembers('verk_nodes').catch(() => [] as string[])) {
          const spid = await server.client.hget(`verk:node:${id}:info`, 'supervisor_pid').catch(() => null);
          if (spid) nodeOf.set(id, Number(spid));
        }
        await sleep(100);
      }
    })();
    const killed: number[] = [];
    /** Supervisors frozen past their TTL (their running jobs were reaped and run elsewhere: zombies). */
    const frozen: number[] = [];
    const log: string[] = [];
    try {
      await waitFor(async () => (await server.client.llen('test:limit:ledger')) >= 20, { what: 'the first jobs', timeoutMs: 30_000 });
      for (let round = 0; round < rounds; round++) {
        const i = Math.floor(random() * nodes.length);
        if (round % 3 === 1) {
          // Frozen past its TTL: peers reap it and run its jobs; thawed, it is a zombie until it fences itself.
          frozen.push(nodes[i].pid!);
          signalGroup(nodes[i].pid!, 'SIGSTOP');
          await sleep(TEST_INTERVALS.nodeTtlMs + 1500);
          signalGroup(nodes[i].pid!, 'SIGCONT');
          log.push(`froze node ${i} for ${TEST_INTERVALS.nodeTtlMs + 1500} ms`);
        } else {
          killed.push(nodes[i].pid!);
          signalGroup(nodes[i].pid!, 'SIGKILL');
          await nodes[i];
          nodes[i] = start();
          all.push(nodes[i]);
          log.push(`killed -9 node ${i}`);
        }
        await sleep(1500 + Math.floor(random() * 1000));
      }
      await waitFor(async () => new Set((await ledger()).filter((e) => e.end !== undefined).map((e) => e.jid)).size === total, {
        what: 'every job done',
        timeoutMs: 90_000,
      });
      await waitFor(async () => (await server.client.hlen(`verk:limit:${Q}:held`)) === 0, { what: 'every slot free', timeoutMs: 10_000 });
    } finally {
      watching = false;
      await watch;
      for (const w of nodes) signalGroup(w.pid!, 'SIGTERM');
      await Promise.all(all);
    }
    // A killed or frozen node's executions count as running until its reap event (Redis time, s):
    // what a zombie does after that is the documented zombie window (its late ack is refused).
    const reaps = new Map<number, number[]>();
    for (const raw of await server.client.lrange('verk:recoveries', 0, -1)) {
      const ev = JSON.parse(raw) as { at: number; node: string };
      const spid = nodeOf.get(ev.node);
      if (spid !== undefined)
        reaps.set(
          spid,
          [...(reaps.get(spid) ?? []), ev.at * 1000].sort((x, y) => x - y),
        );
    }
    const hit = (spid: number) => killed.includes(spid) || frozen.includes(spid);
    const execs = await ledger();
    const open: Exec[] = [];
    /** Runs a thawed zombie finished after its node was reaped (their acks were refused). */
    let zombieEnds = 0;
    for (const e of execs) {
      const reapedAt = hit(e.spid) ? reaps.get(e.spid)?.find((t) => t >= e.start) : undefined;
      if (e.end === undefined || (reapedAt !== undefined && e.end > reapedAt)) {
        if (e.end !== undefined) zombieEnds++;
        e.end = reapedAt;
        open.push(e);
      }
    }
    const unexplained = open.filter((e) => e.end === undefined || !hit(e.spid));
    // Never more than LIMIT running per account, at any instant (a sweep over starts and ends).
    let worst = 0;
    for (const account of ACCOUNTS) {
      const points = execs
        .filter((e) => e.account === account)
        .flatMap((e) => [
          [e.start, 1],
          [e.end ?? Infinity, -1],
        ])
        .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      let n = 0;
      for (const [, d] of points) worst = Math.max(worst, (n += d));
    }
    // Done once; run again only when an earlier run died with its node (before or right after its end: its ack was lost).
    const doneRuns = new Map<string, Exec[]>();
    for (const e of execs) if (!open.includes(e)) doneRuns.set(e.jid, [...(doneRuns.get(e.jid) ?? []), e]);
    const twiceDone = [...doneRuns.values()].filter((runs) => runs.length > 1);
    const twiceUnexplained = twiceDone.filter((runs) =>
      runs
        .sort((x, y) => x.start - y.start)
        .slice(0, -1)
        .some((r) => !hit(r.spid)),
    ).length;
    const rerun = new Set(open.map((e) => e.jid)).size;
    // Starvation: an account with jobs not yet started and none running.
    let worstIdle = 0;
    for (const account of ACCOUNTS) {
      const mine = execs.filter((e) => e.account === account).sort((x, y) => x.start - y.start);
      const lastStart = mine.at(-1)!.start;
      const points = mine.flatMap((e) => [
        [e.start, 1],
        [e.end!, -1],
      ]);
      points.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
      let n = 0;
      let idleSince: number | undefined;
      for (const [t, d] of points) {
        if (t > lastStart) break;
        n += d;
        if (n === 0 && idleSince === undefined) idleSince = t;
        if (n > 0 && idleSince !== undefined) {
          worstIdle = Math.max(worstIdle, t - idleSince);
          idleSince = undefined;
        }
      }
    }
    const recoveryMs = TEST_INTERVALS.nodeTtlMs + TEST_INTERVALS.reaperMs + LIMITS.idleWaitMs + 1000;
    console.log(
      `[measured] limits chaos (seed ${seed}): ${log.join('; ')}. ${total} jobs, ${execs.length} executions, at most ${worst} running per account (limit ${LIMIT}); ` +
        `${rerun} jobs re-run after their node was killed or frozen (${new Set(open.filter((e) => frozen.includes(e.spid)).map((e) => e.jid)).size} frozen, ${zombieEnds} finished by a thawed zombie after its reap), ${twiceDone.length} completed twice (${twiceUnexplained} not explained by a kill or freeze), ${unexplained.length} unexplained open runs; ` +
        `longest time an account with waiting jobs had none running: ${Math.round(worstIdle)} ms (bound ${recoveryMs} ms)`,
    );
    expect(unexplained).toEqual([]);
    expect(worst).toBeLessThanOrEqual(LIMIT);
    expect(doneRuns.size).toBe(total);
    expect(twiceUnexplained).toBe(0);
    expect(worstIdle).toBeLessThan(recoveryMs);
  }, 180_000);
});
