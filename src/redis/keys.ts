// Every Redis key name the project uses (docs/redis.md). Nothing else builds key strings.

export interface Keys {
  prefix: string;
  queues: string;
  queue(q: string): string;
  inprogress(q: string, node: string): string;
  /** Pattern matching every in-progress list (for SCAN). */
  inprogressPattern: string;
  schedule: string;
  retry: string;
  dead: string;
  nodes: string;
  reaping: string;
  /** The reaper's schedule: node id -> earliest instant its heartbeat key may expire (Redis ms). */
  heartbeats: string;
  /** Held (SET NX PX) by the one supervisor that scans for dead nodes this interval. */
  reaperLock: string;
  node(id: string): string;
  nodeQueues(id: string): string;
  nodeInfo(id: string): string;
  /** Identities of jobs a node reported starting after an earlier recovery (poison-pill evidence). */
  nodeStarted(id: string): string;
  /** The job a node's idle wait took (BLMOVE target), before the claim script confirms it. */
  nodeClaim(id: string, q: string): string;
  /** Pattern matching every claim list (for SCAN). */
  claimPattern: string;
  recovered(jid: string): string;
  recoveries: string;
  malformed: string;
  paused: string;
  fenced: string;
  /** `stat:processed` (all queues) or `stat:processed:<q>` (verk's per-queue counter). */
  processed(q?: string): string;
  failed(q?: string): string;
  /**
   * Sidekiq's daily counters `stat:processed:<YYYY-MM-DD>` / `stat:failed:<YYYY-MM-DD>` (UTC).
   * Same namespace as the per-queue counters: a queue named like a date shares its key.
   */
  processedOn(date: string): string;
  failedOn(date: string): string;
  /** What one `verk work` supervisor has added to the daily counters so far (flush-daily-stats-3.lua). */
  statsFlushed(identity: string): string;
  /** A periodic job's state (hash: last_tick watermark, last job) and its tick history (list). */
  cronState(name: string): string;
  cronHistory(name: string): string;
  /** Names of paused periodic jobs (cluster-wide) and of every entry ever seen. */
  cronPaused: string;
  cronEntries: string;
  /** Sidekiq's process registry (set of identities), one hash per identity, its workers and signal list. */
  processes: string;
  process(identity: string): string;
  processWorkers(identity: string): string;
  processSignals(identity: string): string;
  /** The web dashboard's audit list (newest first, LTRIMmed to webAuditLength). */
  webAudit: string;
  /** The fleet's timeline: nodes joined, left, exited, fenced (newest first, bounded: lua/fleet-event-1.lua). */
  events: string;
  /** A unique-job lock (string: the owner's jid; docs/unique-jobs.md). */
  unique(key: string): string;
  /** Pattern matching every unique lock (for SCAN). */
  uniquePattern: string;
  /** Unique locks by age (sorted set: key -> Redis ms taken or last found alive by the sweeper). */
  uniques: string;
  /** Per unique lock: JSON {jid, since, queue, until, at, score} (hash). */
  uniquesInfo: string;
  /** Locks the sweeper released (bounded list, newest first). */
  uniquesReleased: string;
  /** Count of locks the sweeper released. */
  uniqueSwept: string;
  /** Cluster-wide limits (docs/limits.md; the scripts build these from the prefix): a node's slot records. */
  nodeSlots(id: string): string;
  /** A limited queue's slots held per key (hash), keys due to start a parked job (zset), keys with parked jobs (set). */
  limitHeld(q: string): string;
  limitReady(q: string): string;
  limitKeys(q: string): string;
  /** A key's parked jobs (list, oldest at the fetch end) and its rate log (zset of start times). */
  limitParked(q: string, key: string): string;
  limitRate(q: string, key: string): string;
  /** Every node's limits as it started with them (hash: queue → limit). */
  limits: string;
}

export function makeKeys(prefix = ''): Keys {
  const p = prefix;
  return {
    prefix: p,
    queues: `${p}queues`,
    queue: (q) => `${p}queue:${q}`,
    inprogress: (q, node) => `${p}inprogress:${q}:${node}`,
    inprogressPattern: `${p}inprogress:*`,
    schedule: `${p}schedule`,
    retry: `${p}retry`,
    dead: `${p}dead`,
    nodes: `${p}verk_nodes`,
    reaping: `${p}verk:reaping`,
    heartbeats: `${p}verk:heartbeats`,
    reaperLock: `${p}verk:reaper:lock`,
    node: (id) => `${p}verk:node:${id}`,
    nodeQueues: (id) => `${p}verk:node:${id}:queues`,
    nodeInfo: (id) => `${p}verk:node:${id}:info`,
    nodeStarted: (id) => `${p}verk:node:${id}:started`,
    nodeClaim: (id, q) => `${p}verk:node:${id}:claim:${q}`,
    claimPattern: `${p}verk:node:*:claim:*`,
    recovered: (jid) => `${p}verk:recovered:${jid}`,
    recoveries: `${p}verk:recoveries`,
    malformed: `${p}verk:malformed`,
    paused: `${p}verk:paused`,
    fenced: `${p}verk:stat:fenced`,
    processed: (q) => (q ? `${p}stat:processed:${q}` : `${p}stat:processed`),
    failed: (q) => (q ? `${p}stat:failed:${q}` : `${p}stat:failed`),
    processedOn: (date) => `${p}stat:processed:${date}`,
    failedOn: (date) => `${p}stat:failed:${date}`,
    statsFlushed: (identity) => `${p}verk:stat:flushed:${identity}`,
    cronState: (name) => `${p}verk:cron:${name}`,
    cronHistory: (name) => `${p}verk:cron:${name}:history`,
    cronPaused: `${p}verk:cron:paused`,
    cronEntries: `${p}verk:cron:entries`,
    processes: `${p}processes`,
    process: (identity) => `${p}${identity}`,
    processWorkers: (identity) => `${p}${identity}:workers`,
    processSignals: (identity) => `${p}${identity}-signals`,
    webAudit: `${p}verk:web:audit`,
    events: `${p}verk:events`,
    unique: (key) => `${p}verk:unique:${key}`,
    uniquePattern: `${p}verk:unique:*`,
    uniques: `${p}verk:uniques`,
    uniquesInfo: `${p}verk:uniques:info`,
    uniquesReleased: `${p}verk:uniques:released`,
    uniqueSwept: `${p}verk:stat:unique_swept`,
    nodeSlots: (id) => `${p}verk:node:${id}:slots`,
    limitHeld: (q) => `${p}verk:limit:${q}:held`,
    limitReady: (q) => `${p}verk:limit:${q}:ready`,
    limitKeys: (q) => `${p}verk:limit:${q}:keys`,
    limitParked: (q, key) => `${p}verk:limit:${q}:parked:${key}`,
    limitRate: (q, key) => `${p}verk:limit:${q}:rate:${key}`,
    limits: `${p}verk:limits`,
  };
}
