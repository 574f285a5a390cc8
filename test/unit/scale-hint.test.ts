// The scale-hint arithmetic (src/api/scale-hint.ts) on synthetic samples: per-process capacity
// from throughput and busy slots, arrivals from the queue's growth, the backlog drained within
// the target, and the cases where nothing can be measured.
import { describe, expect, it } from 'vitest';
import { scaleHint, slotsOf, type LoadSample } from '../../src/api/scale-hint.js';

const sample = (o: Partial<LoadSample>): LoadSample => ({ queue: 'q', at: 1000, processed: 0, size: 0, latency: 0, nodes: 2, supervisors: 1, slots: 20, busy: 20, ...o });

describe('scaleHint', () => {
  it('a saturated fleet with a growing backlog needs more processes', () => {
    // 10 s: 200 done (20/s) by 20 busy slots (1 job/s per slot, 10 per process); the queue grew by 100.
    const h = scaleHint(sample({ size: 200 }), sample({ at: 1010, processed: 200, size: 300 }), 30);
    expect(h.throughput).toBe(20);
    expect(h.arrivals).toBe(30);
    expect(h.per_process).toBe(10);
    // capacity = 30/s + (300 − 30·30 → 0 backlog beyond target)/30 = 30/s → 3 processes.
    expect(h.processes_needed).toBe(3);
    expect(h.supervisors_needed).toBe(2); // 2 processes per `verk work`
    expect(h.advice).toMatch(/^add 1 worker process/);
  });

  it('drains a backlog above arrivals × target within the target', () => {
    // steady 20/s in and out, but 2 000 waiting: 2 000 − 20·30 = 1 400 extra over 30 s = 46.7/s more.
    const h = scaleHint(sample({ size: 2000 }), sample({ at: 1010, processed: 200, size: 2000 }), 30);
    expect(h.arrivals).toBe(20);
    expect(h.processes_needed).toBe(Math.ceil((20 + 1400 / 30) / 10));
  });

  it('a half-idle fleet can shrink; capacity counts idle slots too', () => {
    // 10 busy slots finished 100 in 10 s: 1/s per slot; 4 nodes of 10 slots each → 10/s per process.
    const h = scaleHint(sample({ busy: 10 }), sample({ at: 1010, processed: 100, busy: 10, nodes: 4, supervisors: 2, slots: 40 }), 30);
    expect(h.per_process).toBe(10);
    expect(h.processes_needed).toBe(1);
    expect(h.advice).toBe("1 of 4 worker processes would keep q's latency under 30 s");
  });

  it('says why when nothing can be measured', () => {
    expect(scaleHint(sample({ nodes: 0, slots: 0, busy: 0 }), sample({ at: 1010, nodes: 0, slots: 0, busy: 0, size: 5 }), 30)).toMatchObject({
      processes_needed: null,
      advice: 'no live worker process serves q and 5 jobs wait: start at least one',
    });
    expect(scaleHint(sample({ busy: 0 }), sample({ at: 1010, busy: 0 }), 30).advice).toBe('q is idle: no throughput to measure');
    expect(scaleHint(sample({}), sample({ at: 1010, size: 9 }), 30).advice).toMatch(/nothing of q finished in 10 s while 9 jobs wait/);
  });

  it('reads the slots of a queue from an info hash', () => {
    expect(slotsOf('default:10,mail.out:5', 'mail.out')).toBe(5);
    expect(slotsOf('default:10', 'mail')).toBe(0);
    expect(slotsOf(null, 'mail')).toBe(0);
  });
});
