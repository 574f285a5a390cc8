// The offline lease checker (test/helpers/lease-checker.ts) on made-up records: each check passes
// a clean record and fails on the violation it exists for, so a chaos run it passes means something.
import { describe, expect, it } from 'vitest';
import {
  type AttemptEvent,
  attemptsOf,
  checkConcurrency,
  checkRate,
  checkReruns,
  checkTicks,
  checkUnique,
  longestIdleBacklog,
  ownershipsOf,
} from '../helpers/lease-checker.js';

let n = 0;
const run = (jid: string, key: string, node: string, start: number, end?: number): AttemptEvent[] => {
  const exec = `x${n++}`;
  const s: AttemptEvent = { ev: 'start', jid, key, node, exec, t: start };
  return end === undefined ? [s] : [s, { ...s, ev: 'end', t: end }];
};

describe('attempts and concurrency', () => {
  it('pairs starts and ends, drops a record sent twice, and ends a killed attempt at its fencing', () => {
    const events = [...run('a', 'k', 'n1', 0, 10), ...run('b', 'k', 'n2', 5)];
    events.push({ ...events[0] }); // the same start again (a script re-sent after a reconnect)
    const attempts = attemptsOf(events, [{ node: 'n2', t: 20 }], 100);
    expect(attempts.map((a) => [a.jid, a.start, a.end, a.endedBy])).toEqual([
      ['a', 0, 10, 'end'],
      ['b', 5, 20, 'fence'],
    ]);
    expect(attemptsOf(run('c', 'k', 'n3', 1), [], 50)[0]).toMatchObject({ end: 50, endedBy: 'record' });
  });

  it('a zombie counts until its node is fenced: a peer starting before that exceeds the limit, after it does not', () => {
    const zombie = run('z', 'k', 'frozen', 0, 500); // thawed and finished at 500, fenced at 300
    const fences = [{ node: 'frozen', t: 300 }];
    const early = checkConcurrency(attemptsOf([...zombie, ...run('p', 'k', 'n2', 200, 400)], fences, 1000), () => 1);
    expect(early.violations).toHaveLength(1);
    expect(early.maxRunning.get('k')).toBe(2);
    const late = checkConcurrency(attemptsOf([...zombie, ...run('p', 'k', 'n2', 300, 400)], fences, 1000), () => 1);
    expect(late.violations).toEqual([]);
    expect(late.maxRunning.get('k')).toBe(1);
  });

  it('a re-run is explained only by a fencing of the node of an earlier attempt after it started', () => {
    const fenced = attemptsOf([...run('j', 'k', 'n1', 0), ...run('j', 'k', 'n2', 50, 60)], [{ node: 'n1', t: 30 }], 100);
    expect(checkReruns(fenced, [{ node: 'n1', t: 30 }])).toMatchObject({ reruns: [expect.any(Array)], unexplained: [] });
    const twice = attemptsOf([...run('j', 'k', 'n1', 0, 10), ...run('j', 'k', 'n2', 50, 60)], [], 100);
    expect(checkReruns(twice, []).unexplained).toHaveLength(1);
  });

  it('limits are per key', () => {
    const events = [...run('a', 'k1', 'n1', 0, 10), ...run('b', 'k1', 'n2', 1, 10), ...run('c', 'k2', 'n1', 1, 10)];
    const r = checkConcurrency(attemptsOf(events, [], 100), (k) => (k === 'k1' ? 1 : 5));
    expect(r.violations.map((v) => v.key)).toEqual(['k1']);
  });

  it('rate: count per window', () => {
    const attempts = attemptsOf(
      [0, 100, 200, 1000, 1100].flatMap((t, i) => run(`j${i}`, 'k', 'n', t, t + 1)),
      [],
      5000,
    );
    expect(checkRate(attempts, 3, 1000)).toEqual([]);
    expect(checkRate(attempts, 2, 1000).map((v) => v.at)).toEqual([200, 1000, 1100]);
  });

  it('starvation: a backlog with nothing running is measured, a backlog being worked is not', () => {
    const attempts = attemptsOf([...run('a', 'k', 'n', 0, 100), ...run('b', 'k', 'n', 100, 200), ...run('c', 'k', 'n', 900, 950)], [], 1000);
    const enq = ['a', 'b', 'c'].map((jid) => ({ jid, key: 'k', t: 0 }));
    expect(longestIdleBacklog(attempts, enq, 1000).get('k')).toBe(700);
  });
});

describe('unique ownership', () => {
  const enq = (key: string, jid: string, got: string, t: number) => ({ key, jid, got, t });

  it('passes a clean record: an owner, refusals naming it, then a new owner after its end', () => {
    const attempts = attemptsOf([...run('a', 'k', 'n', 10, 50), ...run('b', 'k', 'n', 70, 90)], [], 200);
    const enqueues = [enq('k', 'a', 'a', 0), enq('k', 'x', 'a', 20), enq('k', 'b', 'b', 60)];
    const owners = ownershipsOf(enqueues, attempts, 'done', 200);
    expect(owners.map((o) => [o.jid, o.from, o.to])).toEqual([
      ['a', 0, 50],
      ['b', 60, 90],
    ]);
    const r = checkUnique(owners, enqueues, [{ key: 'k', holder: 'a', t: 30 }], { slackMs: 0, sweepMs: 100 });
    expect(r).toEqual({ twoOwners: [], wrongRefusals: [], staleLocks: [] });
  });

  it('finds two owners at once, a refusal while the named owner was gone, and a lock left past the sweep', () => {
    const attempts = attemptsOf([...run('a', 'k', 'n', 10, 50), ...run('b', 'k', 'n', 40, 60)], [], 1000);
    const enqueues = [enq('k', 'a', 'a', 0), enq('k', 'b', 'b', 30), enq('k', 'y', 'a', 80)];
    const owners = ownershipsOf(enqueues, attempts, 'done', 1000);
    const r = checkUnique(owners, enqueues, [{ key: 'k', holder: 'a', t: 500 }], { slackMs: 5, sweepMs: 100 });
    expect(r.twoOwners.map((p) => [p.a.jid, p.b.jid])).toEqual([['a', 'b']]);
    expect(r.wrongRefusals.map((e) => e.jid)).toEqual(['y']);
    expect(r.staleLocks).toHaveLength(1);
  });

  it('an aborted attempt (handed back) ends then but does not release an until-done lock', () => {
    const events = [...run('a', 'k', 'n1', 10, 20), ...run('a', 'k', 'n2', 30, 40)];
    events[1].ok = false;
    const attempts = attemptsOf(events, [], 100);
    expect(attempts.map((a) => [a.end, a.finished])).toEqual([
      [20, false],
      [40, true],
    ]);
    expect(ownershipsOf([{ key: 'k', jid: 'a', got: 'a', t: 0 }], attempts, 'done', 100)[0].to).toBe(40);
  });

  it('an attempt that finished on a node fenced before its ack landed does not end the ownership: the re-run that finishes does', () => {
    const attempts = attemptsOf([...run('a', 'k', 'n1', 10, 20), ...run('a', 'k', 'n2', 30, 45)], [{ node: 'n1', t: 25 }], 100);
    expect(attempts.map((a) => a.finished)).toEqual([true, true]);
    const owners = ownershipsOf([{ key: 'k', jid: 'a', got: 'a', t: 0 }], attempts, 'done', 100);
    expect(owners[0].to).toBe(45);
    // A lock sampled at 35 names a live owner (the job was back in its queue, then running again).
    expect(checkUnique(owners, [], [{ key: 'k', holder: 'a', t: 35 }], { slackMs: 0, sweepMs: 5 }).staleLocks).toEqual([]);
  });

  it("until 'started' releases at the first start; an owner killed before its end still owns until a successful end", () => {
    const attempts = attemptsOf([...run('a', 'k', 'n1', 10), ...run('a', 'k', 'n2', 40, 60)], [{ node: 'n1', t: 30 }], 100);
    expect(ownershipsOf([enq('k', 'a', 'a', 0)], attempts, 'started', 100)[0].to).toBe(10);
    expect(ownershipsOf([enq('k', 'a', 'a', 0)], attempts, 'done', 100)[0].to).toBe(60);
  });
});

describe('ticks', () => {
  it('counts duplicates and holes', () => {
    expect(checkTicks([1, 2, 3, 4], 1)).toEqual({ jobs: 4, duplicates: 0, holes: [] });
    expect(checkTicks([1, 2, 2, 5], 1)).toEqual({ jobs: 4, duplicates: 1, holes: [3, 4] });
  });
});
