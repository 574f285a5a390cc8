// Conservation, by property: every Lua script of lua/ driven on a private redis-server with
// generated payloads (Sidekiq-shaped jobs with odd jids, arrays, scalars, null, invalid JSON and
// UTF-8, NUL bytes, big integers, deep nesting, duplicates) and faults (expired heartbeats,
// wrong-typed keys), checking after every call that each payload sits in exactly one place or
// was removed by that very call, with its bytes unchanged except where the header says.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { stats, type Cmd } from './checked-call.js';
import { ARGV_LAYOUT, SCRIPT_CMDS, acked, reaped } from './commands.js';
import { faultCmds } from './faults.js';
import { cronSeen } from './cron-commands.js';
import { uniqueSeen } from './unique-commands.js';
import { rewritesSeen } from './conservation.js';
import { header, scripts } from './lua-runner.js';
import { TARGETS, initial, setUp, type Initial } from './world.js';
import { LIMIT_CMDS, enqueueUniqueCmd, limitSeen, uniqueWorld, withInvariants } from './limit-commands.js';
import { failCmdWith } from './commands.js';
import { killCmd } from './faults.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  const all = [...stats.values()].reduce((t, v) => t + v.calls, 0);
  console.log(`[measured] reap moved ${reaped.moved}, buried ${reaped.buried}; ${rewritesSeen.count} payloads rewritten by a header rule`);
  console.log(
    `[measured] ack: ${acked.byHash} jobs acked by hash, ${acked.missing} reported missing (${acked.forgedRefused} forged hashes refused), ${acked.tombstoneHeld} calls whose tombstone equalled a held job`,
  );
  console.log(
    `[measured] ${all} script calls checked; per script calls/errors/wrongtype refusals: ${[...stats].map(([s, v]) => `${s} ${v.calls}/${v.errors}/${v.refusals}`).join(', ')}`,
  );
  console.log(
    `[measured] limits: ${limitSeen.taken} jobs taken, ${limitSeen.parked} parked jobs served, ${limitSeen.released} released by acks, ${limitSeen.auditFixes} audit fixes, ${limitSeen.invariantChecks} invariant checks`,
  );
  console.log(`[measured] cronTick outcomes: ${[...cronSeen].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`[measured] unique scripts: ${[...uniqueSeen].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  await server?.stop();
});

/** Runs generated command sequences from generated initial states. */
function conserves(cmds: fc.Arbitrary<Cmd>[], numRuns: number, maxCommands: number, from: fc.Arbitrary<Initial> = initial, size?: fc.SizeForArbitrary): Promise<void> {
  return fc.assert(
    fc.asyncProperty(from, fc.commands(cmds, { maxCommands, size }), async (init: Initial, seq) => {
      await setUp(server.client, init);
      await fc.asyncModelRun(() => ({ model: {}, real: { redis: server.client, pool: init.pool } }), seq);
    }),
    { numRuns, interruptAfterTimeLimit: 20_000 },
  );
}

describe('script headers', () => {
  it('every script in lua/ is driven, with the ARGV layout its header names', () => {
    const names = [...scripts().keys()].sort();
    expect(names).toEqual(Object.keys(SCRIPT_CMDS).sort());
    for (const name of names) {
      const argv = header(name).argv;
      const layout = `${argv.length}${argv[argv.length - 1]?.startsWith('..') ? '..' : ''}`;
      expect({ name, layout }).toEqual({ name, layout: ARGV_LAYOUT[name] });
    }
  });
});

const ALL = Object.values(SCRIPT_CMDS);
const ONE = (name: string) => [SCRIPT_CMDS[name], SCRIPT_CMDS[name], SCRIPT_CMDS[name]];

describe('conservation whatever the payload bytes (expired heartbeats, duplicates)', () => {
  it('holds for any sequence of calls of all scripts', async () => {
    await conserves([...ALL, ...faultCmds([])], 200, 40);
  });
  for (const name of Object.keys(SCRIPT_CMDS)) {
    it(`holds for ${name}`, async () => {
      await conserves([...ONE(name), ...faultCmds([])], 150, 15);
    });
  }
});

describe('conservation when a key is the wrong type (a script erring mid-way)', () => {
  it('holds for any sequence of calls of all scripts', async () => {
    await conserves([...ALL, ...faultCmds()], 200, 40);
  });
  for (const name of Object.keys(SCRIPT_CMDS)) {
    it(`holds for ${name}`, async () => {
      await conserves([...ONE(name), ...faultCmds(TARGETS[name])], 150, 15);
    });
  }
});

describe('the limits’ invariants (docs/limits.md) after every step of limited-queue calls, reaps, failures and faults', () => {
  // Only the scripts a limited queue runs (an unlimited ack of a limited queue's job would leak its slot: that is
  // what the wrappers prevent). A node whose heartbeat key lives is registered, as the heartbeat script keeps it.
  // Every payload unique (uniqueWorld), so a leaked slot record cannot hide behind an equal copy of its job.
  const world = initial.map((i) => uniqueWorld({ ...i, nodes: i.nodes.map((n) => ({ ...n, registered: n.registered || n.alive })) }));
  const cmds = [...Object.values(LIMIT_CMDS), SCRIPT_CMDS.reap, failCmdWith(fc.constant(true)), SCRIPT_CMDS.register, killCmd, enqueueUniqueCmd, enqueueUniqueCmd].map(
    withInvariants,
  );
  it('held = slot records, every record’s job is held by its node, held ≤ concurrency, no parked key without a way to be served', async () => {
    const fixes = limitSeen.auditFixes;
    await conserves([...cmds, ...cmds.slice(0, 4)], 200, 60, world, 'large');
    // With correct scripts the audit never has anything to fix.
    expect(limitSeen.auditFixes - fixes).toBe(0);
  });
});

describe('the properties above reached the interesting paths', () => {
  it('every script ran, some refused a wrong-typed key, reap requeued, buried pills and rewrote fields', () => {
    for (const name of Object.keys(SCRIPT_CMDS)) expect(stats.get(name)?.calls ?? 0, name).toBeGreaterThan(100);
    expect([...stats.values()].reduce((t, v) => t + v.refusals + v.errors, 0)).toBeGreaterThan(0);
    expect(reaped.moved).toBeGreaterThan(0);
    expect(reaped.buried).toBeGreaterThan(0);
    expect(rewritesSeen.count).toBeGreaterThan(0);
    expect(acked.byHash).toBeGreaterThan(0);
    expect(acked.forgedRefused).toBeGreaterThan(0);
    expect(acked.tombstoneHeld).toBeGreaterThan(0);
    expect(limitSeen.parked).toBeGreaterThan(0);
    expect(limitSeen.released).toBeGreaterThan(0);
    for (const outcome of ['fired', 'replaced', 'skipped', 'missed', 'run', 'dup', 'stale', 'init']) expect(cronSeen.get(outcome) ?? 0, outcome).toBeGreaterThan(0);
    for (const outcome of ['enqueued', 'refused', 'started', 'dropped']) expect(uniqueSeen.get(outcome) ?? 0, outcome).toBeGreaterThan(0);
  });
});
