// The worker side of the ack protocol: HeldOrder's positions from the tail, and planAcks'
// split of a batch into bounded calls with the positions each call will find.
import { describe, expect, it } from 'vitest';
import { ackRef, markerOffset, planAcks } from '../../src/core/ack-plan.js';
import { HeldOrder } from '../../src/core/held-order.js';

const bounds = { ackMaxJobs: 3, ackMaxBytes: 1000, ackByHashFromBytes: 100, markerBytes: 4 };

describe('HeldOrder', () => {
  it('counts positions from the tail among the jobs still held, before the batch is removed', () => {
    const h = new HeldOrder<string>();
    for (const x of ['a', 'b', 'c', 'd', 'e']) h.add(x);
    expect([...h.take(['d', 'b'])]).toEqual([
      ['b', 2],
      ['d', 4],
    ]);
    expect([...h.take(['e', 'a', 'zz'])]).toEqual([
      ['a', 1],
      ['e', 3],
    ]);
    h.drop(['c']);
    expect(h.size).toBe(0);
  });

  it('stays right across compactions of many removals', () => {
    const h = new HeldOrder<number>();
    for (let i = 0; i < 500; i++) h.add(i);
    for (let i = 0; i < 400; i++) h.take([i]);
    expect(h.take([450]).get(450)).toBe(51);
  });
});

describe('planAcks', () => {
  const raw = (n: number, jid = 'abcd') => Buffer.from(`{"jid":"${jid}","x":"${'y'.repeat(Math.max(0, n - 20))}"}`);

  it('names big payloads by hash and small ones by bytes; unknown positions always by bytes', () => {
    expect(ackRef(raw(50), undefined, 2, bounds)).toEqual({ bytes: raw(50), hint: 2 });
    const r = ackRef(raw(200), undefined, 2, bounds);
    expect(r).toMatchObject({ hint: 2, length: raw(200).length, offset: 8, marker: Buffer.from('abcd') });
    expect(ackRef(raw(200), 'text', 0, bounds)).toEqual({ bytes: 'text', hint: 0 });
    expect(markerOffset(Buffer.from('no jid here'), 4)).toBe(7);
  });

  it('splits by count and bytes, tail first, each call with the positions left by the calls before it', () => {
    const items = [5, 1, 9, 2, 7].map((pos, i) => ({ entry: `e${i}`, raw: raw(50), pos }));
    const calls = planAcks(items, bounds);
    expect(calls.map((c) => c.entries)).toEqual([
      ['e1', 'e3', 'e0'],
      ['e4', 'e2'],
    ]);
    expect(calls.map((c) => c.refs.map((r) => (r as { hint: number }).hint))).toEqual([
      [1, 2, 5],
      [4, 6],
    ]);
    const heavy = planAcks(
      [1, 2, 3].map((pos) => ({ entry: pos, raw: raw(600), pos })),
      bounds,
    );
    expect(heavy.map((c) => c.entries)).toEqual([[1], [2], [3]]);
    expect(heavy.map((c) => (c.refs[0] as { hint: number }).hint)).toEqual([1, 1, 1]);
  });
});
