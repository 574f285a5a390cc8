// The fast-check commands of the stateful conservation property: one command per Lua script,
// arguments laid out as the script's header names them, payloads picked at run time from what
// Redis holds, and what each call may change or rewrite. Every call is checked (checked-call.ts);
// the steps around the calls are in faults.ts.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { SCRIPT_BOUNDS } from '../../src/config/defaults.js';
import { markerOffset } from '../../src/core/ack-plan.js';
import { FLEET_EVENT_KINDS } from '../../src/redis/scripts.js';
import { agree, ScriptCmd, type Cmd } from './checked-call.js';
import { bkey, rewritesOnly, size } from './conservation.js';
import { scalar, type Reply } from './lua-runner.js';
import { withEnqueuedAt, withFailure } from './payloads.js';
import { payloadIdentity } from '../../src/job/identity.js';
import { FLUSH_DAY, FLUSH_ID, K, NODES, QUEUES, SETS, items, pick, type World } from './world.js';
import { FLEET_ARGV_LAYOUT, FLEET_CMDS } from './fleet-commands.js';
import { CRON_ARGV_LAYOUT, CRON_CMDS } from './cron-commands.js';

const queue = fc.constantFrom(...QUEUES);
const node = fc.constantFrom(...NODES);
const picks = fc.array(fc.nat(), { maxLength: 3 });
/** A small count, or now and then one beyond the scripts' 1 000-item unpack chunks. */
const count = (min: number, max: number) => fc.oneof({ weight: 9, arbitrary: fc.integer({ min, max }) }, { weight: 1, arbitrary: fc.constant(1200) });

async function pickAll(w: World, key: string, is: number[]): Promise<Buffer[]> {
  return Promise.all(is.map((i) => pick(w, key, i)));
}

/** A byte budget for fetch and refill: one byte (one job per call), a few payloads, or none at all. */
const budget = fc.constantFrom(1, 60, 1e9);

/** The most jobs lua/include/fetch-into.lua pops at once: the budget is overshot by less than that. */
const FETCH_CHUNK = 16;

/** A reply that returned jobs must have stopped at the byte budget: all but its last chunk fit under it. */
function withinBudget(jobs: Reply[], max: number): string | undefined {
  const sizes = jobs.map((j) => (Buffer.isBuffer(j) ? j.length : 0));
  const before = sizes.slice(0, Math.max(1, sizes.length - (FETCH_CHUNK - 1)) - 1).reduce((t, v) => t + v, 0);
  return before >= max ? `took ${sizes.length} jobs (${before} B before its last chunk) past a budget of ${max} B` : undefined;
}

export const fetchCmd = fc.record({ q: queue, n: node, max: count(1, 4), first: fc.boolean(), bytes: budget }).map(
  ({ q, n, max, first, bytes }) =>
    new ScriptCmd(`fetch(${q}, ${n}, ${max}, first=${first}, budget=${bytes})`, async () => ({
      script: 'fetch',
      keys: [K.queue(q), K.inprogress(q, n), K.node(n), K.nodeQueues(n), K.paused],
      argv: [max, q, first ? '1' : '0', bytes],
      allow: () => ({ places: [K.queue(q), K.inprogress(q, n)] }),
      verify: (reply, b, a) => {
        const moved = size(b, K.queue(q)) - size(a, K.queue(q));
        const jobs = Array.isArray(reply) && scalar(reply[0]) === 1 ? reply.slice(1) : [];
        return (
          agree('jobs returned', jobs.length, 'taken from the queue', moved) ??
          agree('taken', moved, 'added in progress', size(a, K.inprogress(q, n)) - size(b, K.inprogress(q, n))) ??
          withinBudget(jobs, bytes)
        );
      },
    })),
);

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

/**
 * How one job is named in an ack: by its bytes or by hash (lua/include/held-job.lua), at its
 * right position from the tail, at another one, or at none; `forged` names it by a hash that is
 * not its own (wrong SHA-1, length or marker): such a job must never be removed.
 */
const ackPick = fc.record({
  i: fc.nat(),
  by: fc.constantFrom('bytes', 'bytes', 'direct', 'hash', 'hash', 'forged'),
  at: fc.constantFrom('right', 'right', 'wrong', 'none'),
  forge: fc.constantFrom('sha1', 'length', 'marker'),
});
type AckPick = { i: number; by: string; at: string; forge: string };

/** The ack's ARGV pair for one pick of `items` (the list, head first), or of the pool when it is empty. */
function ackPair(p: AckPick, items: Buffer[], pool: Buffer[]): { spec: string; value: Buffer; raw: Buffer; forged: boolean; byHash: boolean } {
  const raw = items.length ? items[p.i % items.length] : pool[p.i % pool.length];
  const right = items.length ? items.length - (p.i % items.length) : 0;
  const hint = p.at === 'right' ? right : p.at === 'wrong' ? (right % Math.max(1, items.length)) + 1 + (items.length < 2 ? 1 : 0) : 0;
  if (p.by === 'bytes') return { spec: `B${hint}`, value: raw, raw, forged: false, byHash: false };
  // "R": removed at once by its bytes (LREM -1), as a node holding few jobs acks.
  if (p.by === 'direct') return { spec: 'R', value: raw, raw, forged: false, byHash: false };
  const off = markerOffset(raw, SCRIPT_BOUNDS.markerBytes);
  let marker = raw.subarray(off, off + SCRIPT_BOUNDS.markerBytes);
  let length = raw.length;
  let digest = sha1(raw);
  const forged = p.by === 'forged';
  if (forged && p.forge === 'sha1') digest = sha1(Buffer.concat([raw, Buffer.from('x')]));
  if (forged && p.forge === 'length') length += 1;
  if (forged && p.forge === 'marker') marker = Buffer.concat([marker, Buffer.from('~')]);
  return { spec: `H${hint}:${length}:${off}:${digest}`, value: marker, raw, forged, byHash: true };
}

/**
 * The ack's tombstone: the one the worker uses, a payload of the pool (so it may equal jobs held
 * in the list, acked by hash or not acked at all) or one of the acked payloads (the script must
 * refuse, changing nothing, when a job named by its bytes equals it).
 */
const tombChoice = fc.constantFrom('default', 'default', 'pool', 'acked');

/** What the ack calls did in all, so the suite can show every way of naming a job was exercised. */
export const acked = { byHash: 0, missing: 0, forgedRefused: 0, tombstoneHeld: 0, refused: 0 };

export const ackCmd = fc.record({ q: queue, n: node, picks: fc.array(ackPick, { maxLength: 4 }), refill: count(0, 3), bytes: budget, tomb: tombChoice, t: fc.nat() }).map(
  ({ q, n, picks, refill, bytes, tomb, t }) =>
    new ScriptCmd(
      `ack(${q}, ${n}, [${picks.map((p) => `${p.i}:${p.by}${p.by === 'forged' ? `/${p.forge}` : ''}@${p.at}`)}], refill=${refill}, budget=${bytes}, tomb=${tomb}#${t})`,
      async (w) => {
        const items = await items_(w, K.inprogress(q, n));
        const pairs = picks.map((p) => ackPair(p, items, w.pool));
        const tombstone =
          tomb === 'pool' ? w.pool[t % w.pool.length] : tomb === 'acked' && pairs.length ? pairs[t % pairs.length].raw : Buffer.from(SCRIPT_BOUNDS.tombstone);
        return {
          script: 'ack',
          keys: [K.inprogress(q, n), K.processed(), K.processed(q), K.node(n), K.queue(q), K.paused],
          argv: [refill, q, bytes, tombstone, ...pairs.flatMap((x) => [x.spec, x.value])],
          allow: (reply) => ({
            places: [K.inprogress(q, n), K.queue(q)],
            drops: pairs.filter((x) => !x.forged).map((x) => x.raw),
            exactDrops: Array.isArray(reply) ? Number(scalar(reply[0])) : undefined,
          }),
          verify: (reply, b, a) => {
            const r = reply as Reply[];
            const removed = Number(scalar(r[0]));
            const m = Number(scalar(r[3]));
            const missing = new Set(r.slice(4, 4 + m).map((x) => Number(scalar(x))));
            const jobs = r.slice(4 + m);
            const taken = size(b, K.queue(q)) - size(a, K.queue(q));
            acked.missing += missing.size;
            acked.forgedRefused += pairs.filter((x, j) => x.forged && missing.has(j + 1)).length;
            acked.byHash += pairs.filter((x, j) => x.byHash && !x.forged && !missing.has(j + 1)).length;
            if (b.places.get(K.inprogress(q, n))?.has(bkey(tombstone))) acked.tombstoneHeld++;
            const wrong = pairs
              .map((x, j) => {
                if (x.forged && !missing.has(j + 1)) return `job ${j + 1} named by a forged hash was not reported missing`;
                if (!x.byHash && missing.has(j + 1)) return `job ${j + 1} named by its bytes was reported missing`;
                return undefined;
              })
              .find(Boolean);
            return (
              wrong ??
              agree('removed + missing', removed + missing.size, 'at most the jobs named', Math.min(removed + missing.size, pairs.length)) ??
              agree('jobs returned', jobs.length, 'taken from the queue', taken) ??
              agree('in progress changed by', size(a, K.inprogress(q, n)) - size(b, K.inprogress(q, n)), 'refilled − removed', jobs.length - removed) ??
              withinBudget(jobs, bytes)
            );
          },
        };
      },
    ),
);

const items_ = (w: World, key: string) => items(w.redis, key);

export const failCmd = fc
  .record({
    q: queue,
    n: node,
    i: fc.nat(),
    mode: fc.constantFrom('retry', 'dead', 'drop'),
    score: fc.integer({ min: 1000, max: 2000 }),
    min: fc.constantFrom(0, 1500),
    max: fc.constantFrom(1, 2, 100),
  })
  .map(
    ({ q, n, i, mode, score, min, max }) =>
      new ScriptCmd(`fail(${q}, ${n}, pick=${i}, ${mode}, score=${score}, deadMin=${min}, deadMax=${max})`, async (w) => {
        const raw = await pick(w, K.inprogress(q, n), i);
        const out = withFailure(raw, i);
        return {
          script: 'fail',
          keys: [K.inprogress(q, n), K.retry, K.dead, K.processed(), K.processed(q), K.failed(), K.failed(q), K.node(n)],
          argv: [raw, mode, out, score, min, max],
          allow: () =>
            mode === 'drop'
              ? { places: [K.inprogress(q, n)], drops: [raw] }
              : {
                  places: [K.inprogress(q, n), mode === 'dead' ? K.dead : K.retry],
                  rewrites: [[raw, out]],
                  mergeInto: [mode === 'dead' ? K.dead : K.retry],
                  deadTrim: mode === 'dead' ? { key: K.dead, minScore: min, maxJobs: max, written: 1, writtenScore: score } : undefined,
                },
        };
      }),
  );

export const handbackCmd = fc.record({ q: queue, n: node, is: picks }).map(
  ({ q, n, is }) =>
    new ScriptCmd(`handback(${q}, ${n}, picks=[${is}])`, async (w) => ({
      script: 'handback',
      keys: [K.inprogress(q, n), K.queue(q)],
      argv: await pickAll(w, K.inprogress(q, n), is),
      allow: () => ({ places: [K.inprogress(q, n), K.queue(q)] }),
      verify: (reply, b, a) => agree('moved', Number(scalar(reply)), 'pushed to the queue', size(a, K.queue(q)) - size(b, K.queue(q))),
    })),
);

/** Jobs a node runs whose fetch a failover undid: picked from the queue (or the pool: not there), searched `depth` deep. */
export const reclaimCmd = fc.record({ q: queue, n: node, is: picks, depth: fc.constantFrom(1, 3, 100) }).map(
  ({ q, n, is, depth }) =>
    new ScriptCmd(`reclaim(${q}, ${n}, picks=[${is}], depth=${depth})`, async (w) => ({
      script: 'reclaim',
      keys: [K.queue(q), K.inprogress(q, n), K.node(n)],
      argv: [depth, ...(await pickAll(w, K.queue(q), is))],
      allow: () => ({ places: [K.queue(q), K.inprogress(q, n)] }),
      verify: (reply, b, a) => {
        const taken = Number(scalar(reply));
        const gained = size(a, K.inprogress(q, n)) - size(b, K.inprogress(q, n));
        return taken === -1 ? agree('fenced (-1): taken', 0, 'pushed to in-progress', gained) : agree('taken', taken, 'pushed to in-progress', gained);
      },
    })),
);

const setMoves = fc.array(fc.record({ i: fc.nat(), to: fc.constantFrom('q', 'r', '') }), { maxLength: 3 });

export const promoteCmd = fc.record({ set: fc.constantFrom('schedule', 'retry'), moves: setMoves, now: fc.integer({ min: 1000, max: 3000 }) }).map(
  ({ set, moves, now }) =>
    new ScriptCmd(`promote(${set}, [${moves.map((m) => `${m.i}→${m.to || 'dead'}`)}], now=${now})`, async (w) => {
      const entries = await Promise.all(
        moves.map(async (m) => {
          const member = await pick(w, K[set as 'schedule'], m.i);
          return { member, payload: withEnqueuedAt(member, now), queue: m.to };
        }),
      );
      return {
        script: 'promote',
        keys: [K[set as 'schedule'], K.dead, K.queues],
        argv: [K.prefix, now, ...entries.flatMap((e) => [e.member, e.payload, e.queue])],
        allow: () => ({
          places: [K[set as 'schedule'], K.dead, ...QUEUES.map((x) => K.queue(x))],
          rewrites: entries.map((e) => [e.member, e.payload]),
          mergeInto: [K.dead],
        }),
        verify: (reply, b, a) => {
          // Each member still in the set moves once (its first triple) to the queue it names.
          const seen = new Set<string>();
          const want = new Map<string, number>(QUEUES.map((x) => [x, 0]));
          for (const e of entries) {
            const k = bkey(e.member);
            if (seen.has(k) || !b.places.get(K[set as 'schedule'])?.has(k)) continue;
            seen.add(k);
            if (e.queue) want.set(e.queue, want.get(e.queue)! + 1);
          }
          const [queued] = (reply as Reply[]).map((x) => Number(scalar(x)));
          const total = [...want.values()].reduce((t, v) => t + v, 0);
          return (
            agree('queued', queued, 'entries due to queues', total) ??
            QUEUES.map((x) => agree(`entries for ${x}`, want.get(x)!, `pushed to ${x}`, size(a, K.queue(x)) - size(b, K.queue(x)))).find(Boolean)
          );
        },
      };
    }),
);

export const requeueCmd = fc.record({ set: fc.constantFrom(...SETS), i: fc.nat(), q: queue }).map(
  ({ set, i, q }) =>
    new ScriptCmd(`requeue(${set}, pick=${i}, ${q})`, async (w) => {
      const member = await pick(w, K[set], i);
      const out = withEnqueuedAt(member, 2500);
      return {
        script: 'requeue',
        keys: [K[set], K.queue(q), K.queues],
        argv: [member, out, q],
        allow: () => ({ places: [K[set], K.queue(q)], rewrites: [[member, out]] }),
        verify: (reply, b, a) => agree('moved', Number(scalar(reply)), `pushed to ${q}`, size(a, K.queue(q)) - size(b, K.queue(q))),
      };
    }),
);

/** A fleet event: written to the timeline, which holds no payload; it must touch none. */
export const fleetEventCmd = fc
  .record({ kind: fc.constantFrom(...FLEET_EVENT_KINDS), n: node, keep: fc.constantFrom(1, 3, 1000), detail: fc.string({ maxLength: 20 }) })
  .map(
    ({ kind, n, keep, detail }) =>
      new ScriptCmd(`fleetEvent(${kind}, ${n}, keep=${keep})`, async () => ({
        script: 'fleetEvent',
        keys: [K.events],
        argv: [keep, kind, n, 'h:1:x', detail],
        allow: () => ({ places: [] }),
        verify: (reply) => agree('an event time', Number(scalar(reply)) > 0 ? 1 : 0, 'expected', 1),
      })),
  );

/** Kill: a retry/schedule entry to dead as it is, dead trimmed like a failure's bury. */
export const killCmd = fc
  .record({
    set: fc.constantFrom('schedule', 'retry'),
    i: fc.nat(),
    score: fc.integer({ min: 1000, max: 2000 }),
    min: fc.constantFrom(0, 1500),
    max: fc.constantFrom(1, 2, 100),
  })
  .map(
    ({ set, i, score, min, max }) =>
      new ScriptCmd(`kill(${set}, pick=${i}, score=${score}, deadMin=${min}, deadMax=${max})`, async (w) => {
        const member = await pick(w, K[set as 'retry'], i);
        return {
          script: 'kill',
          keys: [K[set as 'retry'], K.dead],
          argv: [member, score, min, max],
          allow: () => ({
            places: [K[set as 'retry'], K.dead],
            // What it writes to dead is the member's own bytes.
            rewrites: [[member, member]],
            mergeInto: [K.dead],
            deadTrim: { key: K.dead, minScore: min, maxJobs: max, written: 1, writtenScore: score },
          }),
        };
      }),
  );

/** A page of a sorted set after a cursor (read-only): exactly the entries ordered after it, as the model orders them. */
export const setPageCmd = fc
  .record({
    set: fc.constantFrom('schedule', 'retry', 'dead'),
    order: fc.constantFrom('asc', 'desc'),
    n: fc.integer({ min: 1, max: 4 }),
    i: fc.option(fc.nat(), { nil: undefined }),
    gone: fc.constantFrom('no', 'longer', 'lower', 'higher'),
    at: fc.nat(),
  })
  .map(
    ({ set, order, n, i, gone, at: byte }) =>
      new ScriptCmd(`setPage(${set}, ${order}, n=${n}, cursor=${i ?? 'none'}, ${gone === 'no' ? 'an entry' : `gone: ${gone} at ${byte}`})`, async (w) => {
        const key = K[set as 'retry'];
        const flat = (await w.redis.zrangeBuffer(key, 0, -1, 'WITHSCORES').catch(() => [])) as Buffer[];
        const all: [Buffer, number][] = [];
        for (let j = 0; j < flat.length; j += 2) all.push([flat[j], Number(flat[j + 1].toString())]);
        if (order === 'desc') all.reverse();
        // The cursor: an entry of the set, or (gone) one removed since: a member of that score that
        // sorts bytewise just after (longer), before or after (one byte changed) an entry's.
        const at = i === undefined || all.length === 0 ? undefined : all[i % all.length];
        const moved = (m: Buffer): Buffer => {
          if (gone === 'longer') return Buffer.concat([m, Buffer.from([0])]);
          const c = Buffer.from(m);
          const k = byte % c.length;
          c[k] = gone === 'lower' ? Math.max(0, c[k] - 1) : Math.min(255, c[k] + 1);
          return c;
        };
        const cursor = at && (gone === 'no' ? at : ([moved(at[0]), at[1]] as [Buffer, number]));
        const inSet = (m: Buffer) => all.some(([x]) => x.equals(m));
        const after = (e: [Buffer, number]) => {
          if (!cursor) return true;
          const byScore = order === 'asc' ? e[1] - cursor[1] : cursor[1] - e[1];
          if (byScore !== 0) return byScore > 0;
          const byBytes = Buffer.compare(e[0], cursor[0]);
          return order === 'asc' ? byBytes > 0 : byBytes < 0;
        };
        const expected = all
          .filter(after)
          .slice(0, n)
          .map(([m]) => m.toString('hex'));
        return {
          script: 'setPage',
          keys: [key],
          argv: [order, n, cursor ? String(cursor[1]) : '', cursor ? cursor[0] : ''],
          allow: () => ({ places: [] }),
          verify: (reply) => {
            const got = (reply as Reply[]).filter((_, j) => j % 2 === 0).map((m) => (Buffer.isBuffer(m) ? m : Buffer.from(String(m))).toString('hex'));
            if (cursor && gone !== 'no' && inSet(cursor[0])) return undefined;
            return got.join(',') === expected.join(',') ? undefined : `page [${got}] is not the entries after the cursor [${expected}]`;
          },
        };
      }),
  );

export const requeueOrphanCmd = fc.record({ q: queue, n: node, batch: count(1, 4) }).map(
  ({ q, n, batch }) =>
    new ScriptCmd(`requeueOrphan(${q}, ${n}, batch=${batch})`, async () => ({
      script: 'requeueOrphan',
      keys: [K.inprogress(q, n), K.queue(q)],
      argv: [K.prefix, n, batch],
      allow: () => ({ places: [K.inprogress(q, n), K.queue(q)] }),
      verify: (reply, b, a) => {
        const r = reply as Reply[];
        const moved = size(a, K.queue(q)) - size(b, K.queue(q));
        return (
          agree('moved', Number(scalar(r[1])), 'pushed to the queue', moved) ?? agree('remaining', Number(scalar(r[2])), 'left in progress', size(a, K.inprogress(q, n)))
        );
      },
    })),
);

/** register and heartbeat take the same ARGV (register one key more) and must not touch any payload. */
const nodeCmd = (script: 'register' | 'heartbeat') =>
  node.map(
    (n) =>
      new ScriptCmd(`${script}(${n})`, async () => ({
        script,
        keys: script === 'register' ? [K.nodes, K.node(n), K.nodeInfo(n), K.heartbeats] : [K.nodes, K.node(n), K.nodeInfo(n)],
        argv: [n, 600_000, 600_000, 'host', 'h', 'busy', 0],
        allow: () => ({ places: [] }),
      })),
  );

export const registerCmd = nodeCmd('register');
export const heartbeatCmd = nodeCmd('heartbeat');

/** Fields the reaper may write, by where it puts the payload. */
export const REAP_REQUEUE_FIELDS = ['verk_recovered'];
export const REAP_BURY_FIELDS = ['error_message', 'error_class', 'recovered_count', 'failed_at', 'retried_at'];

/** What the reap calls did in all, so the suite can show it buried pills and requeued jobs. */
export const reaped = { moved: 0, buried: 0 };

/** Dead-set age limit for reap: far beyond the test scores (1000..3000 epoch s), so only size trims. */
const DEAD_TIMEOUT_S = 1e10;

export const reapCmd = fc
  .record({
    n: node,
    batch: count(1, 5),
    maxRec: fc.integer({ min: 0, max: 3 }),
    force: fc.boolean(),
    count: fc.boolean(),
    isolateFrom: fc.integer({ min: 1, max: 3 }),
    deadMax: fc.constantFrom(1, 2, 1000),
    history: fc.constantFrom(0, 5),
    started: picks,
    evidence: fc.constantFrom('argv', 'set'),
    maxBytes: fc.constantFrom(1, 200, 4194304),
  })
  .map(
    (o) =>
      new ScriptCmd(
        `reap(${o.n}, batch=${o.batch}, maxRec=${o.maxRec}, force=${o.force}, count=${o.count}, isolateFrom=${o.isolateFrom}, deadMax=${o.deadMax}, history=${o.history}, started=[${o.started}] in ${o.evidence}, maxBytes=${o.maxBytes})`,
        async (w) => {
          // Evidence that picked jobs started: their identities in ARGV[13] or in verk:node:<id>:started.
          const held = (await Promise.all(QUEUES.map((q) => items(w.redis, K.inprogress(q, o.n))))).flat();
          const ids = held.length ? o.started.map((i) => payloadIdentity(held[i % held.length])) : [];
          if (o.evidence === 'set' && ids.length) await w.redis.sadd(K.nodeStarted(o.n), ...ids).catch(() => 0);
          return {
            script: 'reap',
            keys: [K.nodes, K.reaping, K.dead],
            argv: [
              K.prefix,
              o.n,
              o.batch,
              o.maxRec,
              60_000,
              o.force ? '1' : '0',
              'n1',
              o.history,
              DEAD_TIMEOUT_S,
              o.deadMax,
              o.count ? '1' : '0',
              o.isolateFrom,
              JSON.stringify(o.evidence === 'argv' ? ids : []),
              o.maxBytes,
            ],
            allow: (reply) => ({
              places: [...QUEUES.flatMap((q) => [K.queue(q), K.inprogress(q, o.n), K.nodeClaim(o.n, q)]), K.dead],
              rules: [rewritesOnly(REAP_REQUEUE_FIELDS), rewritesOnly(REAP_BURY_FIELDS)],
              mergeInto: [K.dead],
              deadTrim: { key: K.dead, minScore: -Infinity, maxJobs: o.deadMax, written: Array.isArray(reply) ? Number(scalar(reply[2])) : 0 },
            }),
            verify: (reply, b, a) => {
              const [, moved, buried] = (reply as Reply[]).map((x) => Number(scalar(x)));
              reaped.moved += moved;
              reaped.buried += buried;
              const queued = QUEUES.reduce((t, q) => t + size(a, K.queue(q)) - size(b, K.queue(q)), 0);
              const held = (x: typeof b, q: string) => size(x, K.inprogress(q, o.n)) + size(x, K.nodeClaim(o.n, q));
              const taken = QUEUES.reduce((t, q) => t + held(b, q) - held(a, q), 0);
              // A job goes back to the queue of the lists it came from, never another one.
              const misrouted = QUEUES.map((q) =>
                size(a, K.queue(q)) - size(b, K.queue(q)) > held(b, q) - held(a, q) ? `queue ${q} grew by more than its list shrank` : undefined,
              ).find(Boolean);
              return misrouted ?? agree('moved', moved, 'pushed to queues', queued) ?? agree('moved + buried', moved + buried, 'taken from in-progress lists', taken);
            },
          };
        },
      ),
  );

/** Sidekiq's daily counters: no payload may move; what the reply says was added covers the totals sent. */
export const flushDailyStatsCmd = fc.record({ p: fc.nat(50), f: fc.nat(50), base: fc.nat(20) }).map(
  ({ p, f, base }) =>
    new ScriptCmd(`flushDailyStats(${p}, ${f}, base=${base})`, async () => ({
      script: 'flushDailyStats',
      keys: [K.statsFlushed(FLUSH_ID), K.processedOn(FLUSH_DAY), K.failedOn(FLUSH_DAY)],
      argv: [p, f, base, base, 600, 600],
      allow: () => ({ places: [] }),
      verify: (reply) => {
        const [added, failed] = (reply as Reply[]).map((x) => Number(scalar(x)));
        return agree('added executions ≥ sent', added >= p ? 1 : 0, 'expected', 1) ?? agree('added failures ≥ sent', failed >= f ? 1 : 0, 'expected', 1);
      },
    })),
);

/** Every script command, by script name. */
export const SCRIPT_CMDS: Record<string, fc.Arbitrary<Cmd>> = {
  ...FLEET_CMDS,
  ...CRON_CMDS,
  fetch: fetchCmd,
  ack: ackCmd,
  fail: failCmd,
  handback: handbackCmd,
  reclaim: reclaimCmd,
  promote: promoteCmd,
  requeue: requeueCmd,
  kill: killCmd,
  setPage: setPageCmd,
  fleetEvent: fleetEventCmd,
  requeueOrphan: requeueOrphanCmd,
  register: registerCmd,
  heartbeat: heartbeatCmd,
  reap: reapCmd,
  flushDailyStats: flushDailyStatsCmd,
};

/** ARGV slots each command fills, as the script headers name them ("n.." = n and more). */
export const ARGV_LAYOUT: Record<string, string> = {
  fetch: '4',
  ack: '5..',
  fail: '6',
  handback: '1..',
  reclaim: '2..',
  promote: '3..',
  requeue: '3',
  kill: '4',
  setPage: '4',
  fleetEvent: '5',
  requeueOrphan: '3',
  register: '4..',
  heartbeat: '4..',
  reap: '14',
  flushDailyStats: '6',
  ...FLEET_ARGV_LAYOUT,
  ...CRON_ARGV_LAYOUT,
};
