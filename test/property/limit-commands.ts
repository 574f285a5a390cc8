// The fast-check commands of the conservation property for cluster-wide limits (docs/limits.md):
// fetch-limited, claim-limited (after a BLMOVE step), ack-limited, handback-limited, fail-8 with
// its release tail and the audit, and the limits' own invariants (withInvariants checks them after
// every step of a run): for every key, held[K] = the slot records naming (Q, K) across nodes; every record's
// job is in that node's in-progress list of Q; held ≤ concurrency; a key with parked jobs is in
// the ready set or full (so something will serve it). Parked lists are places like any list.
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { SCRIPT_BOUNDS } from '../../src/config/defaults.js';
import { payloadIdentity } from '../../src/job/identity.js';
import { specText, type LimitSpec } from '../../src/redis/limit-calls.js';
import { agree, ScriptCmd, StepCmd, type Cmd } from './checked-call.js';
import { size, type Census } from './conservation.js';
import { scalar, type Reply } from './lua-runner.js';
import { waitTakesCmd } from './fleet-commands.js';
import { K, NODES, QUEUES, items, pick, type Initial } from './world.js';

const queue = fc.constantFrom(...QUEUES);
const node = fc.constantFrom(...NODES);
const budget = fc.constantFrom(1, 60, 1e9);

/** The limits the runs use: q by args[0] with concurrency and a rate, r one key for the queue. */
export const LIMITS: Record<string, LimitSpec> = {
  q: { queue: 'q', path: ['args', 0], concurrency: 2, rate: 3, rateWindow: 60_000 },
  r: { queue: 'r', path: [], concurrency: 1, rate: 0, rateWindow: 0 },
};
const spec = (q: string) => specText(LIMITS[q]);
const base = (q: string) => `${K.prefix}verk:limit:${q}:`;
const slotsOf = (n: string) => `${K.node(n)}:slots`;
/** The places a limited call may change: the queue, the node's lists and the queue's parked lists. */
const parkedPrefix = (q: string) => `${base(q)}parked:`;

/** What the limited calls did in all, so the suite can show parking and releasing were exercised. */
export const limitSeen = { parked: 0, released: 0, taken: 0, auditFixes: 0, invariantChecks: 0 };

const parkedTotal = (c: Census, q: string) => {
  let n = 0;
  for (const [place, m] of c.places) if (place.startsWith(parkedPrefix(q))) for (const v of m.values()) n += v;
  return n;
};

/** The limits' invariants now (undefined = they hold). Skipped while a limit key has the wrong type. */
export async function limitInvariants(redis: Redis): Promise<string | undefined> {
  limitSeen.invariantChecks++;
  for (const q of QUEUES) {
    const l = LIMITS[q];
    const typeOf = (k: string) => redis.type(k);
    if ((await typeOf(`${base(q)}held`)) === 'string' || (await typeOf(`${base(q)}ready`)) === 'string') continue;
    const held = await redis.hgetall(`${base(q)}held`);
    const records = new Map<string, number>();
    for (const n of NODES) {
      if ((await typeOf(slotsOf(n))) !== 'hash') continue;
      const slots = await redis.hgetall(slotsOf(n));
      const list = await items(redis, K.inprogress(q, n));
      const ids = new Map<string, number>();
      for (const raw of list) ids.set(payloadIdentity(raw), (ids.get(payloadIdentity(raw)) ?? 0) + 1);
      for (const [field, value] of Object.entries(slots)) {
        if (!field.startsWith(`${q}\t`)) continue;
        const id = field.slice(q.length + 1);
        const keys = value.split('\t');
        if (keys.length > (ids.get(id) ?? 0))
          return `${n} holds ${keys.length} slot(s) of ${q} for job ${JSON.stringify(id)} but ${ids.get(id) ?? 0} such job(s) in ${K.inprogress(q, n)}`;
        for (const k of keys) records.set(k, (records.get(k) ?? 0) + 1);
      }
    }
    for (const k of new Set([...Object.keys(held), ...records.keys()])) {
      const h = Number(held[k] ?? 0);
      if (h !== (records.get(k) ?? 0)) return `${q} held[${JSON.stringify(k)}] = ${h}, but ${records.get(k) ?? 0} slot record(s) name it`;
      if (l.concurrency > 0 && h > l.concurrency) return `${q} held[${JSON.stringify(k)}] = ${h} > concurrency ${l.concurrency}`;
    }
    for (const p of await redis.keys(`${parkedPrefix(q)}*`)) {
      if ((await typeOf(p)) !== 'list') continue;
      const key = p.slice(parkedPrefix(q).length);
      const due = (await redis.zscore(`${base(q)}ready`, key)) !== null;
      const full = l.concurrency > 0 && Number(held[key] ?? 0) >= l.concurrency;
      if (!due && !full) return `${q} key ${JSON.stringify(key)} has parked jobs, a free slot and no entry in the ready set: nothing would ever serve it`;
    }
  }
  return undefined;
}

/**
 * The invariant runs' world: every payload unique (its own jid, placed at most once), so a slot
 * record names exactly one job and a leaked record cannot hide behind an equal copy; keys from a
 * small set (a, b, 7, a missing path) so they fill up, and some payloads that are not JSON.
 */
export function uniqueWorld(init: Initial): Initial {
  const keys = ['"a"', '"b"', '7', ''];
  let next = 0;
  const pool: Buffer[] = [];
  const fresh = () => {
    const i = next++;
    pool.push(Buffer.from(i % 7 === 6 ? `not json ${i}` : `{"class":"T","args":[${keys[i % 4]}],"jid":"u${i}"}`));
    return pool.length - 1;
  };
  const placed = init.placed.map((entries) => entries.map((e) => ({ p: fresh(), score: e.score })));
  for (let i = 0; i < 4; i++) fresh();
  return { ...init, pool, placed };
}

let uniques = 0;
/** A producer enqueues a new job (never seen before) to a queue's push end. */
export const enqueueUniqueCmd = fc
  .record({ q: queue, k: fc.constantFrom('"a"', '"b"', '7', '') })
  .map(
    ({ q, k }) =>
      new StepCmd(`enqueue a new job of key ${k || '(none)'} to ${q}`, (w) =>
        w.redis.lpush(K.queue(q), `{"class":"T","args":[${k}],"jid":"new${++uniques}"}`).catch(() => 0),
      ),
  );

/** Runs `cmd` and then checks the limits' invariants: any step (a script call or a fault) must keep them. */
export function withInvariants(arb: fc.Arbitrary<Cmd>): fc.Arbitrary<Cmd> {
  return arb.map(
    (cmd) =>
      new StepCmd(cmd.toString(), async (w) => {
        await cmd.run({}, w);
        const bad = await limitInvariants(w.redis);
        if (bad) throw new Error(`after ${cmd.toString()}: a limits invariant is broken: ${bad}`);
      }),
  );
}

/** The take's replies: jobs returned = jobs now in progress more than before, and parked + taken = jobs left the queue. */
function takeAgrees(q: string, n: string, jobs: Reply[], b: Census, a: Census, removed = 0, claimed = 0): string | undefined {
  const fromQueue = size(b, K.queue(q)) - size(a, K.queue(q));
  const fromParked = parkedTotal(b, q) - parkedTotal(a, q);
  const gained = size(a, K.inprogress(q, n)) - size(b, K.inprogress(q, n));
  limitSeen.taken += jobs.length;
  if (fromParked < 0) limitSeen.parked -= fromParked;
  return (
    agree('jobs returned − removed', jobs.length - removed, 'in progress grew by', gained) ??
    agree('taken', jobs.length, 'left the queue, parked lists and claim list', fromQueue + fromParked + claimed)
  );
}

export const fetchLimitedCmd = fc.record({ q: queue, n: node, max: fc.integer({ min: 1, max: 4 }), first: fc.boolean(), bytes: budget }).map(
  ({ q, n, max, first, bytes }) =>
    new ScriptCmd(`fetchLimited(${q}, ${n}, ${max}, first=${first}, budget=${bytes})`, async () => ({
      script: 'fetchLimited',
      keys: [K.queue(q), K.inprogress(q, n), K.node(n), K.nodeQueues(n), K.paused],
      argv: [max, q, first ? '1' : '0', bytes, K.prefix, spec(q)],
      // An error takes no job into the in-progress list (the worker would never learn of it).
      allow: (reply) => ({ places: reply === undefined ? [K.queue(q)] : [K.queue(q), K.inprogress(q, n)], placePrefixes: [parkedPrefix(q)] }),
      verify: (reply, b, a) => {
        const r = reply as Reply[];
        const jobs = Number(scalar(r[0])) === 1 ? r.slice(3) : [];
        return takeAgrees(q, n, jobs, b, a) ?? agree('at most', Math.min(jobs.length, max), 'taken', jobs.length);
      },
    })),
);

export const claimLimitedCmd = fc.record({ q: queue, n: node, want: fc.integer({ min: 1, max: 4 }) }).map(
  ({ q, n, want }) =>
    new ScriptCmd(`claimLimited(${q}, ${n}, want=${want})`, async () => ({
      script: 'claimLimited',
      keys: [K.nodeClaim(n, q), K.inprogress(q, n), K.node(n), K.queue(q), K.paused],
      argv: [want, q, 60, K.prefix, spec(q)],
      allow: (reply) => ({
        places: reply === undefined ? [K.nodeClaim(n, q), K.queue(q)] : [K.nodeClaim(n, q), K.inprogress(q, n), K.queue(q)],
        placePrefixes: [parkedPrefix(q)],
      }),
      verify: (reply, b, a) => {
        const r = reply as Reply[];
        const status = Number(scalar(r[0]));
        const claimed = Number(scalar(r[1]));
        const jobs = status === 1 ? r.slice(4) : [];
        return (
          agree('claimed', claimed, 'held in the claim list', size(b, K.nodeClaim(n, q))) ??
          agree('claim list left', size(a, K.nodeClaim(n, q)), 'expected', 0) ??
          (status === 1 ? takeAgrees(q, n, jobs, b, a, 0, claimed) : agree('put back', claimed, 'pushed to the queue', size(a, K.queue(q)) - size(b, K.queue(q))))
        );
      },
    })),
);

export const ackLimitedCmd = fc
  .record({ q: queue, n: node, is: fc.array(fc.nat(), { maxLength: 3 }), by: fc.constantFrom('B0', 'R'), refill: fc.integer({ min: 0, max: 3 }), bytes: budget })
  .map(
    ({ q, n, is, by, refill, bytes }) =>
      new ScriptCmd(`ackLimited(${q}, ${n}, picks=[${is}] by ${by}, refill=${refill}, budget=${bytes})`, async (w) => {
        const raws = await Promise.all(is.map((i) => pick(w, K.inprogress(q, n), i)));
        return {
          script: 'ackLimited',
          keys: [K.inprogress(q, n), K.processed(), K.processed(q), K.node(n), K.queue(q), K.paused],
          argv: [refill, q, bytes, SCRIPT_BOUNDS.tombstone, K.prefix, spec(q), ...raws.flatMap((raw) => [by, raw, payloadIdentity(raw)])],
          allow: (reply) => ({
            places: [K.inprogress(q, n), K.queue(q)],
            placePrefixes: [parkedPrefix(q)],
            drops: raws,
            exactDrops: Array.isArray(reply) ? Number(scalar(reply[0])) : undefined,
          }),
          verify: (reply, b, a) => {
            const r = reply as Reply[];
            const removed = Number(scalar(r[0]));
            const m = Number(scalar(r[3]));
            limitSeen.released += removed;
            return takeAgrees(q, n, r.slice(4 + m), b, a, removed);
          },
        };
      }),
  );

export const handbackLimitedCmd = fc
  .record({ q: queue, n: node, is: fc.array(fc.nat(), { maxLength: 3 }), from: fc.constantFrom('inprogress', 'inprogress', 'claim') })
  .map(
    ({ q, n, is, from }) =>
      new ScriptCmd(`handbackLimited(${q}, ${n}, picks=[${is}], from ${from})`, async (w) => {
        const list = from === 'claim' ? K.nodeClaim(n, q) : K.inprogress(q, n);
        return {
          script: 'handbackLimited',
          keys: [list, K.queue(q), K.node(n)],
          argv: [K.prefix, q, from === 'claim' ? '0' : '1', ...(await Promise.all(is.map((i) => pick(w, list, i))))],
          allow: () => ({ places: [list, K.queue(q)] }),
          verify: (reply, b, a) => agree('moved', Number(scalar(reply)), 'pushed to the queue', size(a, K.queue(q)) - size(b, K.queue(q))),
        };
      }),
  );

export const limitAuditCmd = fc.constant(null).map(
  () =>
    new ScriptCmd('limitAudit()', async () => ({
      script: 'limitAudit',
      keys: [K.nodes, K.reaping],
      argv: [K.prefix, 100_000, ...QUEUES.flatMap((q) => [q, LIMITS[q].concurrency])],
      allow: () => ({ places: [] }),
      verify: (reply) => {
        limitSeen.auditFixes += Array.isArray(reply) ? reply.length - 1 : 0;
        return undefined;
      },
    })),
);

/** The limited commands, by script name. */
export const LIMIT_CMDS: Record<string, fc.Arbitrary<Cmd>> = {
  fetchLimited: fetchLimitedCmd,
  claimLimited: fc.oneof(claimLimitedCmd, waitTakesCmd),
  ackLimited: ackLimitedCmd,
  handbackLimited: handbackLimitedCmd,
  limitAudit: limitAuditCmd,
};

export const LIMIT_ARGV_LAYOUT: Record<string, string> = { fetchLimited: '6', claimLimited: '5', ackLimited: '7..', handbackLimited: '4..', limitAudit: '3..' };
