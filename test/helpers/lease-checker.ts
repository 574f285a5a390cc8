// The offline invariant checker of issue 14 ("Prove it"): one checker for everything a fleet
// shares — periodic ticks, cluster-wide limits and unique jobs — run over a record taken with
// Redis TIME (one clock for every process): attempt starts and ends (test/fixtures/jobs/Leased.js),
// node fencing (the reaper's recovery events), producer enqueues and their answers, and sampled
// lock holders. Pure functions: test/unit/lease-checker.test.ts shows each check failing on the
// violation it exists for.

/** One attempt's start or end, written by the handler (exec: one id per attempt). */
export interface AttemptEvent {
  ev: 'start' | 'end';
  jid: string;
  key: string;
  node: string;
  exec: string;
  t: number;
  /** An end: false when the attempt was aborted (handed back, timed out) rather than finished. */
  ok?: boolean;
}

/** The moment a node lost its lease (reaped: Redis TIME of the reap), from verk:recoveries. */
export interface FenceEvent {
  node: string;
  t: number;
}

/** A producer's unique enqueue: it asked to enqueue `jid`; Redis answered `got` (== jid: accepted). */
export interface EnqueueEvent {
  key: string;
  jid: string;
  got: string;
  /** Redis TIME of the answer (the producer reads TIME right after it). */
  t: number;
}

/** A sampled lock: at t the lock of `key` named `holder` (undefined: no lock). */
export interface LockSample {
  key: string;
  holder: string | undefined;
  t: number;
}

export interface Attempt {
  jid: string;
  key: string;
  node: string;
  start: number;
  /** The end as the checker counts it: the handler's end, or its node's fencing, or the record's end. */
  end: number;
  /** How the end is known. */
  endedBy: 'end' | 'fence' | 'record';
  /** It finished (its handler returned before its node was fenced). */
  finished: boolean;
}

/**
 * Pairs starts with ends (by execution id; duplicates of one record dropped). An attempt with no end
 * runs until its node was fenced after it started (a node killed or frozen: "zombies counted until
 * fenced"), else until the record ends. A zombie's end after its fencing counts from the fencing.
 */
export function attemptsOf(events: AttemptEvent[], fences: FenceEvent[], recordEnd: number): Attempt[] {
  const starts = new Map<string, AttemptEvent>();
  const ends = new Map<string, AttemptEvent>();
  for (const e of events) {
    const into = e.ev === 'start' ? starts : ends;
    if (!into.has(e.exec)) into.set(e.exec, e);
  }
  const out: Attempt[] = [];
  for (const [exec, s] of starts) {
    const fence = fences.filter((f) => f.node === s.node && f.t >= s.t).reduce((m, f) => Math.min(m, f.t), Number.POSITIVE_INFINITY);
    const endEvent = ends.get(exec);
    const endAt = endEvent?.t ?? Number.POSITIVE_INFINITY;
    const end = Math.min(endAt, fence, recordEnd);
    const endedBy = end === endAt ? 'end' : end === fence ? 'fence' : 'record';
    out.push({ jid: s.jid, key: s.key, node: s.node, start: s.t, end, endedBy, finished: endedBy === 'end' && endEvent?.ok !== false });
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * Jobs that ran more than once, and those of them not explained: an earlier attempt finished while
 * its node was never fenced after it started (a re-run is explained only by a fencing: the node was
 * killed or frozen before its ack landed, and the reaper gave the job back).
 */
export function checkReruns(attempts: Attempt[], fences: FenceEvent[]): { reruns: Attempt[][]; unexplained: Attempt[][] } {
  const fencedDuring = (a: Attempt) => fences.some((f) => f.node === a.node && f.t >= a.start);
  const reruns = [...groupBy(attempts, (a) => a.jid).values()].filter((l) => l.length > 1);
  const unexplained = reruns.filter((l) => l.slice(0, -1).some((a) => a.finished && !fencedDuring(a)));
  return { reruns, unexplained };
}

export interface ConcurrencyReport {
  /** Per key, the most attempts running at one instant. */
  maxRunning: Map<string, number>;
  /** Keys whose limit was exceeded, with the instant and the attempts running then. */
  violations: { key: string; at: number; running: Attempt[] }[];
}

/** Never more than limit(key) attempts of one key running at once (an end and a start at one instant do not overlap). */
export function checkConcurrency(attempts: Attempt[], limit: (key: string) => number): ConcurrencyReport {
  const maxRunning = new Map<string, number>();
  const violations: ConcurrencyReport['violations'] = [];
  for (const [key, list] of groupBy(attempts, (a) => a.key)) {
    const edges = list.flatMap((a) => [
      { t: a.start, d: 1, a },
      { t: a.end, d: -1, a },
    ]);
    // Ends before starts at the same instant.
    edges.sort((x, y) => x.t - y.t || x.d - y.d);
    const running = new Set<Attempt>();
    let max = 0;
    for (const e of edges) {
      if (e.d < 0) running.delete(e.a);
      else {
        running.add(e.a);
        max = Math.max(max, running.size);
        if (running.size > limit(key)) violations.push({ key, at: e.t, running: [...running] });
      }
    }
    maxRunning.set(key, max);
  }
  return { maxRunning, violations };
}

/** At most `count` starts of one key in any window of `windowMs` (a rate of count per window). */
export function checkRate(attempts: Attempt[], count: number, windowMs: number): { key: string; at: number; starts: number }[] {
  const out: { key: string; at: number; starts: number }[] = [];
  for (const [key, list] of groupBy(attempts, (a) => a.key)) {
    const starts = list.map((a) => a.start).sort((x, y) => x - y);
    for (let i = count; i < starts.length; i++) {
      if (starts[i] - starts[i - count] < windowMs) out.push({ key, at: starts[i], starts: count + 1 });
    }
  }
  return out;
}

/**
 * Starvation: the longest time per key during which it had a backlog (a job enqueued by then and
 * not yet started for the first time) while none of its attempts ran. `enqueued` is when each
 * jid was accepted.
 */
export function longestIdleBacklog(attempts: Attempt[], enqueued: { jid: string; key: string; t: number }[], recordEnd: number): Map<string, number> {
  const out = new Map<string, number>();
  const firstStart = new Map<string, number>();
  for (const a of attempts) if (!firstStart.has(a.jid) || a.start < firstStart.get(a.jid)!) firstStart.set(a.jid, a.start);
  for (const [key, jobs] of groupBy(enqueued, (e) => e.key)) {
    const mine = attempts.filter((a) => a.key === key);
    const edges: { t: number; backlog: number; running: number }[] = [];
    for (const j of jobs) {
      edges.push({ t: j.t, backlog: 1, running: 0 });
      edges.push({ t: firstStart.get(j.jid) ?? recordEnd, backlog: -1, running: 0 });
    }
    for (const a of mine) {
      edges.push({ t: a.start, backlog: 0, running: 1 });
      edges.push({ t: a.end, backlog: 0, running: -1 });
    }
    edges.sort((x, y) => x.t - y.t || y.running - x.running);
    let backlog = 0;
    let running = 0;
    let since: number | undefined;
    let longest = 0;
    for (const e of edges) {
      backlog += e.backlog;
      running += e.running;
      const idle = backlog > 0 && running === 0;
      if (idle && since === undefined) since = e.t;
      if (!idle && since !== undefined) {
        longest = Math.max(longest, e.t - since);
        since = undefined;
      }
    }
    if (since !== undefined) longest = Math.max(longest, recordEnd - since);
    out.set(key, longest);
  }
  return out;
}

/** One owner of a unique key: from its accepted enqueue to its release (per `until`). */
export interface Ownership {
  key: string;
  jid: string;
  from: number;
  to: number;
}

/**
 * Ownerships for `until: 'done'` (released by the ack after the last attempt that finished: an
 * attempt can finish and still be run again, when its node was fenced before its ack landed) or
 * `'started'` (released at its first start). An owner with no release yet owns to the record's end.
 */
export function ownershipsOf(enqueues: EnqueueEvent[], attempts: Attempt[], until: 'done' | 'started', recordEnd: number): Ownership[] {
  return enqueues
    .filter((e) => e.got === e.jid)
    .map((e) => {
      const mine = attempts.filter((a) => a.jid === e.jid);
      const release = until === 'started' ? Math.min(...mine.map((a) => a.start)) : Math.max(...mine.filter((a) => a.finished).map((a) => a.end));
      return { key: e.key, jid: e.jid, from: e.t, to: Number.isFinite(release) ? release : recordEnd };
    });
}

export interface UniqueReport {
  /** Two owners of one key at once. */
  twoOwners: { key: string; a: Ownership; b: Ownership }[];
  /** An enqueue refused in favour of a jid that was not an owner at that time (slack ms allowed). */
  wrongRefusals: EnqueueEvent[];
  /** A sampled lock naming a holder that had stopped owning longer ago than `sweepMs` (or never owned). */
  staleLocks: LockSample[];
}

export function checkUnique(owners: Ownership[], enqueues: EnqueueEvent[], samples: LockSample[], opts: { slackMs: number; sweepMs: number }): UniqueReport {
  const twoOwners: UniqueReport['twoOwners'] = [];
  for (const [key, list] of groupBy(owners, (o) => o.key)) {
    const sorted = [...list].sort((x, y) => x.from - y.from);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].from < sorted[i - 1].to) twoOwners.push({ key, a: sorted[i - 1], b: sorted[i] });
    }
  }
  const byJid = new Map(owners.map((o) => [o.jid, o]));
  const owned = (jid: string | undefined, t: number, after: number) => {
    const o = jid === undefined ? undefined : byJid.get(jid);
    return o !== undefined && t >= o.from - opts.slackMs && t <= o.to + after;
  };
  const wrongRefusals = enqueues.filter((e) => e.got !== e.jid && !owned(e.got, e.t, opts.slackMs));
  const staleLocks = samples.filter((s) => s.holder !== undefined && !owned(s.holder, s.t, opts.sweepMs));
  return { twoOwners, wrongRefusals, staleLocks };
}

export interface TickReport {
  jobs: number;
  duplicates: number;
  /** Tick ids between the first and the last that have no job. */
  holes: number[];
}

/** One job per tick id (a fixed-rate schedule: one tick every `step`, in the ticks' unit). */
export function checkTicks(ticks: number[], step: number): TickReport {
  const distinct = [...new Set(ticks)].sort((a, b) => a - b);
  const holes: number[] = [];
  for (let i = 1; i < distinct.length; i++) for (let t = distinct[i - 1] + step; t < distinct[i]; t += step) holes.push(t);
  return { jobs: ticks.length, duplicates: ticks.length - distinct.length, holes };
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
