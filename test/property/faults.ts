// The steps around the script calls of the conservation property (not checked themselves): a
// node's heartbeat expiring, a key made the wrong type and repaired, payloads put in a place
// (one, or a burst of more than 1 000), all without ever destroying a payload.
import fc from 'fast-check';
import { StepCmd, type Cmd } from './checked-call.js';
import { CORRUPTIBLE, RECOVERED, corrupt, corruptibleKey, repair, K, NODES, PLACES, SETS } from './world.js';

const node = fc.constantFrom(...NODES);

/** The node's heartbeat key expires (it died or stalled past its TTL). */
export const killCmd = node.map((n) => new StepCmd(`expire heartbeat of ${n}`, (w) => w.redis.del(K.node(n))));

/** A key becomes a string (its payloads parked meanwhile). */
export const corruptCmd = (targets: string[] = CORRUPTIBLE) =>
  fc
    .record({ name: fc.constantFrom(...targets), i: fc.nat() })
    .map(({ name, i }) => new StepCmd(`SET ${name}${name === RECOVERED ? `#${i}` : ''} x`, async (w) => corrupt(w.redis, await corruptibleKey(w, name, i))));

/** Every key made a string is deleted again and its payloads return. */
export const repairCmd = fc.constant(new StepCmd('repair wrong-typed keys', (w) => repair(w.redis)));

/** A producer or worker puts a payload of the pool into a place (duplicates on purpose). */
export const placeCmd = fc.record({ place: fc.nat(PLACES.length - 1), i: fc.nat() }).map(
  ({ place, i }) =>
    new StepCmd(`put pool[${i}] in ${PLACES[place]}`, (w) => {
      const key = PLACES[place],
        raw = w.pool[i % w.pool.length];
      return ((SETS as readonly string[]).includes(key) ? w.redis.zadd(key, 1000 + (i % 1000), raw) : w.redis.lpush(key, raw)).catch(() => 0);
    }),
);

/** A burst: 1 001 to 1 100 payloads of the pool into one list (more than one unpack chunk of 1 000). */
export const burstCmd = fc.record({ place: fc.nat(PLACES.length - 4), i: fc.nat(), n: fc.integer({ min: 1001, max: 1100 }) }).map(
  ({ place, i, n }) =>
    new StepCmd(`put ${n} payloads from pool[${i}] in ${PLACES[place]}`, (w) => {
      const raws = Array.from({ length: n }, (_, j) => w.pool[(i + j) % w.pool.length]);
      return w.redis.lpush(PLACES[place], ...raws).catch(() => 0);
    }),
);

/** The faults and direct writes around the script calls; `targets` = keys that may turn into strings. */
export const faultCmds = (targets?: string[]): fc.Arbitrary<Cmd>[] => {
  const writes = [killCmd, placeCmd, placeCmd, fc.oneof({ weight: 7, arbitrary: placeCmd }, { weight: 1, arbitrary: burstCmd })];
  return targets?.length === 0 ? writes : [...writes, corruptCmd(targets), repairCmd];
};
