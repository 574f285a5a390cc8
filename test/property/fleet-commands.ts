// The fast-check commands of the conservation property for the fleet scripts: claim (the idle
// wait's confirmation, run after a BLMOVE has put a job in the node's claim list), reap-scan
// and node-sweep (the reaper's schedule: they must never touch a payload).
import fc from 'fast-check';
import { agree, ScriptCmd, StepCmd, type Cmd } from './checked-call.js';
import { size } from './conservation.js';
import { scalar, type Reply } from './lua-runner.js';
import { K, NODES, QUEUES } from './world.js';

const queue = fc.constantFrom(...QUEUES);
const node = fc.constantFrom(...NODES);

/** The idle wait's BLMOVE: the queue's oldest job into the node's claim list (not checked). */
export const waitTakesCmd = fc
  .record({ q: queue, n: node })
  .map(({ q, n }) => new StepCmd(`BLMOVE ${K.queue(q)} → ${K.nodeClaim(n, q)}`, (w) => w.redis.lmove(K.queue(q), K.nodeClaim(n, q), 'RIGHT', 'LEFT').catch(() => null)));

export const claimCmd = fc.record({ q: queue, n: node, more: fc.integer({ min: 0, max: 3 }) }).map(
  ({ q, n, more }) =>
    new ScriptCmd(`claim(${q}, ${n}, more=${more})`, async () => ({
      script: 'claim',
      keys: [K.nodeClaim(n, q), K.inprogress(q, n), K.node(n), K.queue(q), K.paused],
      argv: [more, q, 60],
      allow: () => ({ places: [K.nodeClaim(n, q), K.inprogress(q, n), K.queue(q)] }),
      verify: (reply, b, a) => {
        const r = reply as Reply[];
        const status = Number(scalar(r[0]));
        const claimed = Number(scalar(r[1]));
        const extra = r.length - 2;
        const claimList = K.nodeClaim(n, q);
        return (
          agree('claimed', claimed, 'held in the claim list', size(b, claimList)) ??
          agree('claim list left', size(a, claimList), 'expected', 0) ??
          (status === 1
            ? (agree('claimed + extra', claimed + extra, 'added in progress', size(a, K.inprogress(q, n)) - size(b, K.inprogress(q, n))) ??
              agree('extra returned', extra, 'taken from the queue', size(b, K.queue(q)) - size(a, K.queue(q))))
            : agree('put back', claimed, 'pushed to the queue', size(a, K.queue(q)) - size(b, K.queue(q))))
        );
      },
    })),
);

export const reapScanCmd = fc.record({ max: fc.integer({ min: 1, max: 4 }) }).map(
  ({ max }) =>
    new ScriptCmd(`reapScan(max=${max})`, async (w) => {
      // Some nodes due now: their schedule entry in the past.
      await w.redis.zadd(K.heartbeats, 0, NODES[0], 0, NODES[1]).catch(() => 0);
      return { script: 'reapScan', keys: [K.heartbeats], argv: [K.prefix, max, 5000], allow: () => ({ places: [] }) };
    }),
);

export const nodeSweepCmd = fc.record({ count: fc.integer({ min: 1, max: 3 }) }).map(
  ({ count }) =>
    new ScriptCmd(`nodeSweep(count=${count})`, async () => ({
      script: 'nodeSweep',
      keys: [K.nodes, K.reaping, K.heartbeats],
      argv: ['0', count],
      allow: () => ({ places: [] }),
    })),
);

/** Claim runs only where a wait has put something, now and then: both paths are driven. */
export const FLEET_CMDS: Record<string, fc.Arbitrary<Cmd>> = {
  claim: fc.oneof(claimCmd, waitTakesCmd),
  reapScan: reapScanCmd,
  nodeSweep: nodeSweepCmd,
};

export const FLEET_ARGV_LAYOUT: Record<string, string> = { claim: '3', reapScan: '3', nodeSweep: '2' };
