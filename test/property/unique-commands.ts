// The fast-check commands of the conservation property for the unique-job scripts
// (docs/unique-jobs.md): enqueue-unique (pushes exactly the one job it reports, or nothing),
// unique-start, unique-sweep and unique-why (no payload may move), unique-drop (removes the
// member it names, every copy of it in that one place, nothing else). The lock keys are strings
// and the lock index a sorted set of keys: not places (conservation.ts NOT_PLACES).
import fc from 'fast-check';
import { ScriptCmd, agree, type Cmd } from './checked-call.js';
import { size } from './conservation.js';
import { scalar, type Reply } from './lua-runner.js';
import { K, NODES, QUEUES, SETS, items, pick, type World } from './world.js';
import { lockArgs } from './payloads.js';

/** The keys the harness's payloads lock (payloads.ts gives some of them "verk_unique"). */
export const UNIQUE_KEYS = ['k1', 'k2', ''] as const;

/** Outcomes seen, for the reach check: enqueued, refused, released at start, dropped with a release, swept. */
export const uniqueSeen = new Map<string, number>();
const seen = (k: string, n = 1) => uniqueSeen.set(k, (uniqueSeen.get(k) ?? 0) + n);

/** Mostly a member that carries a lock (when the place holds one), else any (pick's rule). */
async function pickLocked(w: World, key: string, i: number, locked: boolean): Promise<Buffer> {
  const mine = locked ? (await items(w.redis, key)).filter((b) => lockArgs(K.prefix, b).length) : [];
  return mine.length ? mine[i % mine.length] : pick(w, key, i);
}

/** The in-progress lists that hold a job carrying a lock. */
async function heldLocked(w: World): Promise<string[]> {
  const out: string[] = [];
  for (const q of QUEUES)
    for (const n of NODES) {
      const list = K.inprogress(q, n);
      if ((await items(w.redis, list)).some((b) => lockArgs(K.prefix, b).length)) out.push(list);
    }
  return out;
}

export const enqueueUniqueCmd = fc
  .record({
    key: fc.constantFrom(...UNIQUE_KEYS),
    jid: fc.constantFrom('u1', 'u2', 'u3'),
    q: fc.constantFrom(...QUEUES),
    at: fc.constantFrom('', '', '1500'),
    until: fc.constantFrom('done', 'started', 'ttl', 'bogus'),
    ttl: fc.constantFrom(0, 60_000),
  })
  .map(
    ({ key, jid, q, at, until, ttl }) =>
      new ScriptCmd(`enqueueUnique(${key}, ${jid}, ${q}, at=${at || 'now'}, ${until}, ttl=${ttl})`, async () => {
        const payload = Buffer.from(`{"class":"U","args":[],"queue":"${q}","jid":"${jid}","verk_unique":{"key":"${key}","until":"${until}"}}`);
        const dest = at === '' ? K.queue(q) : K.schedule;
        return {
          script: 'enqueueUnique',
          keys: [K.queues, K.queue(q), K.schedule],
          argv: [K.prefix, key, jid, payload, q, at, until, ttl],
          allow: (reply) => {
            const pushed = Array.isArray(reply) && Number(scalar(reply[0])) === 1 ? 1 : 0;
            return { places: [dest], creates: pushed, mergeInto: at === '' ? [] : [K.schedule] };
          },
          verify: (reply, b, a) => {
            const r = reply as Reply[];
            const pushed = Number(scalar(r[0])) === 1;
            seen(pushed ? 'enqueued' : 'refused');
            return at === '' ? agree('enqueued', pushed ? 1 : 0, `pushed to ${q}`, size(a, dest) - size(b, dest)) : undefined;
          },
        };
      }),
  );

/** Mostly the picked job's own lock (as the worker sends it), now and then another one. */
export const uniqueStartCmd = fc
  .record({
    q: fc.constantFrom(...QUEUES),
    n: fc.constantFrom(...NODES),
    i: fc.nat(),
    own: fc.constantFrom(true, true, true, false),
    key: fc.constantFrom(...UNIQUE_KEYS),
    jid: fc.constantFrom('u1', 'u2', ''),
  })
  .map(
    ({ q, n, i, own, key, jid }) =>
      new ScriptCmd(`uniqueStart(${q}, ${n}, pick=${i}, ${own ? 'its own lock (any node holding a locked job)' : `${key}, ${jid}`})`, async (w) => {
        // Its own lock: a locked job wherever one is held (as the worker holding it would send it),
        // so that a release at the start is reached in most runs, not only when the picks align.
        const lists = own ? await heldLocked(w) : [];
        const list = lists.length ? lists[i % lists.length] : K.inprogress(q, n);
        const raw = await pickLocked(w, list, i, own);
        const mine = lockArgs(K.prefix, raw);
        return {
          script: 'uniqueStart',
          keys: [list],
          argv: [K.prefix, raw, ...(own && mine.length ? mine.slice(1) : [key, jid])],
          allow: () => ({ places: [] }),
          verify: (reply) => {
            if (Number(scalar(reply)) === 1) seen('started');
            return undefined;
          },
        };
      }),
  );

const containers = [...QUEUES.map((q) => K.queue(q)), ...SETS.map((s) => K[s])];

export const uniqueDropCmd = fc.record({ c: fc.nat(containers.length - 1), i: fc.nat(), locked: fc.boolean() }).map(
  ({ c, i, locked }) =>
    new ScriptCmd(`uniqueDrop(${containers[c]}, pick=${i}${locked ? ', a locked one' : ''})`, async (w) => {
      const member = await pickLocked(w, containers[c], i, locked);
      return {
        script: 'uniqueDrop',
        keys: [containers[c]],
        argv: [K.prefix, member],
        allow: (reply) => ({ places: [containers[c]], drops: Array.from({ length: Array.isArray(reply) ? Number(scalar(reply[0])) : 0 }, () => member) }),
        verify: (reply, b, a) => {
          const [removed, released] = (reply as Reply[]).map((x) => Number(scalar(x)));
          // A locked member removed runs the release (decode, compare-and-delete) whether or not the lock was its own.
          if (removed && lockArgs(K.prefix, member).length) seen('dropped');
          if (released) seen('dropped and released');
          return agree('removed', removed, `left ${containers[c]}`, size(b, containers[c]) - size(a, containers[c]));
        },
      };
    }),
);

export const uniqueSweepCmd = fc
  .record({
    grace: fc.constantFrom(0, 0, 600_000),
    locks: fc.constantFrom(1, 100),
    budget: fc.constantFrom(1, 3, 5000),
    nodes: fc.constantFrom(1, 1000),
    bytes: fc.constantFrom(1, 100, 4194304),
  })
  .map(
    ({ grace, locks, budget, nodes, bytes }) =>
      new ScriptCmd(`uniqueSweep(grace=${grace}, locks=${locks}, budget=${budget}, nodes=${nodes}, bytes=${bytes})`, async () => ({
        script: 'uniqueSweep',
        keys: [K.uniques, K.uniquesInfo],
        argv: [K.prefix, grace, locks, budget, nodes, 5, 'n1', bytes],
        allow: () => ({ places: [] }),
        verify: (reply) => {
          if (Array.isArray(reply) && typeof scalar(reply[0]) === 'number') seen('swept', Number(scalar(reply[1])));
          return undefined;
        },
      })),
  );

export const uniqueWhyCmd = fc.record({ key: fc.constantFrom(...UNIQUE_KEYS), budget: fc.constantFrom(1, 5000) }).map(
  ({ key, budget }) =>
    new ScriptCmd(`uniqueWhy(${key}, budget=${budget})`, async () => ({
      script: 'uniqueWhy',
      keys: [K.uniquesInfo],
      argv: [K.prefix, key, budget, 1000, 4194304],
      allow: () => ({ places: [] }),
    })),
);

export const UNIQUE_CMDS: Record<string, fc.Arbitrary<Cmd>> = {
  enqueueUnique: enqueueUniqueCmd,
  uniqueStart: uniqueStartCmd,
  uniqueDrop: uniqueDropCmd,
  uniqueSweep: uniqueSweepCmd,
  uniqueWhy: uniqueWhyCmd,
};

export const UNIQUE_ARGV_LAYOUT: Record<string, string> = { enqueueUnique: '8', uniqueStart: '4', uniqueDrop: '2', uniqueSweep: '8', uniqueWhy: '5' };
