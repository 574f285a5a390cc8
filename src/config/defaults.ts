// Every default value of the project lives here and nowhere else, most of them in the one
// declaration of the config keys below, from which the Config type, validation, the environment
// layer, the `verk work` flags, their --help text and the docs table are all derived.
import os from 'node:os';
import { bool, cron, duration, int, limits, oneOf, queues, text, type KeyDecl } from './declare.js';
import { parseRedisUrl } from '../util/redis-url.js';
import { checkWebAuth } from './web-auth.js';

/*
 * Adding a config key is one entry here:
 *   myKey: duration(5_000, 'what it does, in one line', { min: 10 }),
 * with the builder of its kind (duration, int, text, bool, oneOf, queues; see declare.ts) and its
 * default. That gives it `config.myKey` with its type, the flag `--my-key`, the variable
 * VERK_MY_KEY, validation with bounds (a duration is at most 2^31−1 ms unless `age: true`), a line
 * in `verk work --help`, and a row in the docs tables (the docs test prints the row to paste into
 * README.md and docs/cli.md). A rule across keys goes in cross-check.ts.
 */
export const CONFIG_DECLARATION = {
  redisUrl: text(
    'redis://127.0.0.1:6379/0',
    'Redis URL: redis://[user:password@]host[:port][/db], rediss:// for TLS, redis+sentinel://host1:26379,host2:26379/mymaster[/db], or redis+cluster://host1:7000,host2:7001 (the Redis Cluster layout)',
    {
      short: 'r',
      arg: '<url>',
      envAliases: ['REDIS_URL'],
      check: parseRedisUrl,
    },
  ),
  prefix: text('', 'prefix for every key (empty = keys shared with verk and Sidekiq)', { arg: '<prefix>' }),
  queues: queues('default:10', 'queues with per-process concurrency, e.g. default:10,mail:5 (a file can give each a timeout)', { short: 'q' }),
  processes: int(0, 'worker processes per `verk work` (0 = one per CPU core)', { short: 'p', min: 0, max: 512, defaultText: 'CPU cores' }),
  handlers: text('./jobs', 'directory of job handler modules (relative to the config file when set there)', { arg: '<dir>' }),
  nodeId: text('', 'base of node ids; with fixedNodeId the exact id', { arg: '<id>', defaultText: 'hostname' }),
  fixedNodeId: bool(false, "use nodeId as the exact node id (verk's mode A; one process; hands back what its earlier run left)"),

  heartbeatInterval: duration(5_000, "how often the supervisor renews each node's heartbeat (at most nodeTtl/3)", { min: 10 }),
  nodeTtl: duration(20_000, 'a node whose heartbeat is this old is dead and reaped', { min: 50 }),
  reaperInterval: duration(5_000, 'how often the fleet looks for dead nodes: each supervisor tries (±20% jitter), one per interval does it', { min: 10 }),
  maxRecoveries: int(3, 'recoveries of one job from dead nodes on which it had started, before it goes to dead (poison pill)', { min: 0, max: 1_000_000 }),
  hangTimeout: duration(120_000, 'a worker process whose event loop does not answer pings this long is killed', { min: 100 }),
  recoveryWindow: duration(7 * 86_400_000, "how long a job's recovery count is remembered", { min: 1000, max: 100 * 365 * 86_400_000, age: true }),
  reapBatch: int(1_000, 'jobs moved per script call when reaping a large in-progress list', { min: 1, max: 100_000 }),
  recoveryHistory: int(1_000, 'recovery events kept in verk:recoveries', { min: 0, max: 1_000_000 }),

  schedulerInterval: duration(1_000, 'how often the fleet moves due schedule/retry entries: each supervisor polls at random around this × the supervisors in the fleet', {
    min: 10,
  }),
  schedulerBatch: int(100, 'schedule/retry entries moved per script call', { min: 1, max: 10_000 }),
  cron: cron('periodic jobs by name, e.g. { nightly: { class, schedule, tz, catchUp, overlap } } (docs/cron.md; JSON in env and flags)'),
  limits: limits(
    "cluster-wide limits per queue and key, e.g. { 'api.partner': { key: 'args[0].account', concurrency: 3, rate: '100/min' } } (docs/limits.md; JSON in env and flags)",
  ),
  blockTimeout: duration(5_000, 'how long an idle fetcher blocks on an empty queue before re-checking (also how soon a resumed queue is served)', { min: 10 }),
  redisCommandTimeout: duration(5_000, 'a Redis command without a reply this long fails and its connection is re-made (blocking waits get blockTimeout on top)', {
    min: 50,
    max: 600_000,
  }),
  sentinelPassword: text('', "the Sentinels' own password for a redis+sentinel:// URL (wins over its ?sentinelPassword=)", { arg: '<password>' }),
  durability: oneOf(
    ['default', 'replicated'],
    'default',
    'replicated: enqueue, ack, failure, hand-back, reap and promotion each wait for a replica (WAIT 1), so a failover cannot undo them',
  ),
  durabilityTimeout: duration(1_000, 'with durability replicated: how long one write waits for a replica to confirm it (at most half of redisCommandTimeout)', {
    min: 1,
    max: 600_000,
  }),

  uniqueSweepInterval: duration(10_000, 'how often each supervisor looks for unique locks whose job exists nowhere (docs/unique-jobs.md)', { min: 10 }),
  uniqueSweepGrace: duration(60_000, 'a unique lock is looked at by the sweeper only once it is this old (taken, or last found alive, that long ago)', { min: 0 }),

  shutdownTimeout: duration(25_000, 'SIGTERM: how long running jobs may finish before they are handed back'),
  killGrace: duration(5_000, 'how long a timed-out job may ignore its abort before its process is recycled'),
  jobTimeout: duration(0, 'job timeout when neither the handler nor the queue sets one (0 = none)', { defaultText: '0' }),

  maxRetries: int(25, 'retries when neither the job nor its handler says', { min: 0, max: 1_000_000 }),
  deadMaxJobs: int(10_000, 'jobs kept in the dead set (oldest trimmed first)', { min: 0, max: 1_000_000_000 }),
  deadTimeout: duration(180 * 86_400_000, 'jobs older than this are trimmed from the dead set', { max: 100 * 365 * 86_400_000, age: true }),
  backtraceLines: int(20, 'backtrace lines kept in error_backtrace', { min: 0, max: 10_000 }),

  healthPort: int(0, 'serve /livez, /readyz and /metrics on this port (0 = off)', { arg: '<port>', min: 0, max: 65535 }),
  webPort: int(0, 'serve the web dashboard (`verk web`) on this port beside the workers (0 = off)', { arg: '<port>', min: 0, max: 65535 }),
  webHost: text('127.0.0.1', 'address the web dashboard listens on (a non-loopback one needs webAuth)', { arg: '<address>' }),
  webAuth: text('', 'operator credentials of the web dashboard: token:<secret>, basic:<user>:<password>, or none (never logged)', {
    arg: '<spec>',
    defaultText: "'' (none; loopback only)",
    check: checkWebAuth,
  }),
  webReadAuth: text('', 'read-only credentials of the web dashboard (token:<secret> or basic:<user>:<password>; needs webAuth)', {
    arg: '<spec>',
    check: checkWebAuth,
  }),
  webPollInterval: duration(2_000, 'how often one web server reads the live figures from Redis for all its open tabs', { min: 250 }),
  webAuditLength: int(1_000, 'web dashboard actions kept in verk:web:audit', { min: 1, max: 1_000_000 }),
  degradedTimeout: duration(60_000, '/livez fails once the supervisor has had fewer worker processes than `processes` this long', { min: 1000 }),
  logLevel: oneOf(['debug', 'info', 'warn', 'error', 'silent'], 'info', 'log level'),
  logFormat: oneOf(['auto', 'json', 'pretty'], 'auto', 'log format (auto = pretty on a TTY, else JSON)'),
} satisfies Record<string, KeyDecl>;

export type ConfigKey = keyof typeof CONFIG_DECLARATION;

/** Each key's default, as a config file would write it (`queues` is "default:10", resolved later). */
export const DEFAULTS = Object.freeze(Object.fromEntries(Object.entries(CONFIG_DECLARATION).map(([k, d]) => [k, d.default]))) as {
  readonly [K in ConfigKey]: (typeof CONFIG_DECLARATION)[K]['default'];
};

export type DefaultKey = ConfigKey;

/**
 * Bounds of the scripts a busy worker sends (fetch, ack and its refill), so that no call holds
 * Redis for more than a few ms whatever the concurrency or payload size (issue 12). Not config
 * keys: they follow from Redis's own costs (a payload that enters a Lua script is hashed byte by
 * byte, ~2.3 ns/B on the test machine; SHA-1 about as much), not from anything a user tunes, and
 * a larger value only makes other clients wait longer. Measured figures: docs/performance.md.
 */
export const SCRIPT_BOUNDS = {
  /** Jobs one ack call names; a bigger batch is split into several calls sent together. */
  ackMaxJobs: 50,
  /** Payload bytes one ack call reads (each job's element once, its SHA-1 or its bytes once). */
  ackMaxBytes: 128 * 1024,
  /** Jobs one fetch (or an ack's refill) takes. */
  fetchMaxJobs: 500,
  /** Payload bytes one fetch (or refill) takes; at least one job whatever its size. */
  fetchMaxBytes: 256 * 1024,
  /**
   * From this payload size on, an ack names a job by length, marker and SHA-1 instead of its
   * bytes. Measured (docs/performance.md): by hash at 2 KB cost 40 % of the throughput (two
   * passes over the payload in Redis instead of one); from ~16 KB the bytes saved outweigh it.
   */
  ackByHashFromBytes: 16 * 1024,
  /**
   * While a node holds at most this many jobs of a queue, a job under ackByHashFromBytes is acked
   * by `LREM` of its bytes (one command; the list is short, so the scan is too) instead of by
   * position and tombstone (LINDEX + LSET each, one LREM per call). Measured: at concurrency 10
   * the tombstone path cost ~45 % of the throughput; at 5 000 it is what bounds the script.
   */
  ackDirectUpTo: 128,
  /** Bytes of the marker an ack by hash checks before the SHA-1 (the jid's text, else the payload's end). */
  markerBytes: 24,
  /** What an ack writes over a found job before removing all of them with one LREM (not valid JSON). */
  tombstone: '\u0000verk:acked\u0000',
} as const;

/** Bounds of the unique-job scripts (lua/unique-sweep-2.lua, lua/unique-why-1.lua; docs/unique-jobs.md). */
export const UNIQUE = {
  /** Locks one sweep call looks at. */
  sweepLocks: 100,
  /** Payloads one sweep call reads in all while looking for owners (a search past it keeps the lock). */
  sweepElements: 5_000,
  /** Payload bytes one sweep call reads in all (a search past it keeps the lock). */
  sweepBytes: 4 * 1024 * 1024,
  /** Payloads and payload bytes `verk unique why` reads at most. */
  whyElements: 20_000,
  whyBytes: 16 * 1024 * 1024,
  /** Nodes whose lists a search looks at; more: cannot tell (the lock is kept). */
  maxNodes: 1_000,
  /** Releases kept in verk:uniques:released. */
  historyKept: 1_000,
  /** Locks `verk unique list` shows at most. */
  listMax: 1_000,
} as const;

/** Socket settings of every Redis connection (src/redis/connection.ts). */
export const REDIS_SOCKET_DEFAULTS = {
  /** TCP keep-alive: first probe after this much idle time. */
  keepAliveMs: 10_000,
  /** A closing socket that does not finish its close handshake in this time is destroyed. */
  disconnectTimeoutMs: 500,
} as const;

/** Confirming a write with durability 'replicated' (src/redis/replication.ts, docs/redis-ha.md). */
export const DURABLE = {
  /**
   * WAITs per write before it is reported unconfirmed (counted, logged; the write stays done on the
   * primary). Right after a failover the new primary has no replica until one follows it, and a
   * worker's slot waits while its ack is confirmed: 3 attempts hold it at most
   * 3 × durabilityTimeout + 0.3 s (measured effect on resume times: docs/redis-ha.md).
   */
  attempts: 3,
  /** Backoff between two WAITs: 100 ms doubling to 2 s. */
  backoffBaseMs: 100,
  backoffCapMs: 2_000,
} as const;

/** Reconciling after a failover (src/core/reconcile.ts, src/runner/failover-watch.ts, docs/redis-ha.md). */
export const FAILOVER = {
  /** Jobs searched from a queue's fetch end for a running job whose fetch the failover undid. */
  reclaimDepth: 10_000,
  /** Newest recovery events read to tell a reaped node from one whose registration was lost. */
  historyChecked: 1_000,
  /** SCAN pages of in-progress and claim lists one pass reads at most (COUNT 1000 each). */
  maxScanPages: 100,
} as const;

/** How the reaper shares its work across a fleet (src/core/duties/reaper.ts, docs/reliability.md). */
export const REAPER = {
  /** The reaper lock lasts this share of reaperInterval: under the shortest gap between two ticks (-20% jitter). */
  lockShare: 0.75,
  /** Nodes one reap-scan call checks at most (each: PTTL + ZADD). */
  scanBatch: 500,
  /** reap-scan calls per pass at most (the rest of the due nodes wait for the next pass). */
  maxScanCalls: 40,
  /** SSCAN COUNT of one node-sweep page. */
  sweepPage: 500,
  /** Sweep pages per pass at most (100 000 registered nodes at the default page). */
  maxSweepPages: 200,
  /** Payload bytes one reap call moves at most (the first job always moves): bounds the script's time. */
  maxBytesPerCall: 4 * 1024 * 1024,
} as const;

/** How a worker process that must go (fenced, recycled) ends (src/core/worker-node.ts). */
export const NODE_EXIT = {
  /** Longest wait for the acks and failures already sent to land or be refused (and counted). */
  settleWaitMs: 2_000,
} as const;

/** Hand-back calls (shutdown, fencing, reconcile) are cut to these sizes (src/redis/scripts.ts). */
export const HANDBACK = {
  maxJobs: 50,
  maxBytes: 4 * 1024 * 1024,
} as const;

/** How the Sidekiq process registry and the scheduler share a fleet (src/runner/sidekiq-registry.ts, scheduler). */
export const FLEET = {
  /** Sidekiq's own beat: its Web UI counts a process dead after 60 s without one. */
  sidekiqBeatMs: 10_000,
  /** The process hash's TTL (Sidekiq's). */
  sidekiqTtlS: 60,
  /** Every how many registry beats the TTL is renewed and the identity re-added to `processes`. */
  sidekiqRenewEvery: 3,
  /** A node's metadata (busy, rss, ...) is written at least every this many beats when unchanged. */
  infoEvery: 6,
  /**
   * A supervisor's wait between two scheduler polls never grows past this, whatever the fleet:
   * the last survivor of a shrinking fleet polls again within it (at 5 000 supervisors the
   * fleet then polls ~170 times a minute instead of 60: 3 commands each).
   */
  schedulerMaxIntervalMs: 60_000,
  /** Events kept in the fleet's timeline (verk:events: nodes joined, left, exited, fenced). */
  eventsKept: 1_000,
  /** About how many payload bytes one scheduler batch reads and promotes (fewer entries when they are big). */
  promoteMaxBytes: 4 * 1024 * 1024,
} as const;

/** How the cron duty shares ticks across a fleet (src/core/duties/cron.ts, docs/cron.md). */
export const CRON = {
  /** A supervisor never sleeps longer than this between two looks at the entries (a new or resumed entry, a lost wake-up). */
  maxSleepMs: 30_000,
  /** The wake-up after a tick is delayed at random by up to this share of the gap to the next tick... */
  jitterShare: 0.05,
  /** ...and never by more than this (each supervisor fires at most this late because of it). */
  maxJitterMs: 200,
  /** The wait after a failed round (Redis unreachable): the next tick is tried then. */
  errorSleepMs: 1_000,
  /** Shortest sleep (a tick due in 1 ms is not polled in a loop). */
  minSleepMs: 5,
  /** Ticks one entry enumerates per round at most (a long outage of an every-second entry). */
  maxTicksPerRound: 1000,
  /** Tick events kept per entry in verk:cron:<name>:history (newest first). */
  historyLength: 100,
  /** Elements skip-if-running/replace compare at most per tick (queue + the nodes' lists): beyond, "cannot tell" = still running. */
  overlapScanMax: 100_000,
  /** Registered nodes whose lists skip-if-running looks at, at most (beyond: "cannot tell"). */
  overlapMaxNodes: 2_000,
  /** Recovered forms ("verk_recovered": 0..n) of the previous job looked for besides its exact bytes. */
  overlapRecoveredForms: 10,
} as const;

/** Cluster-wide limits (src/core/duties/limit-audit.ts, lua/include/limit-take.lua, docs/limits.md). */
export const LIMITS = {
  /** Jobs one take call parks at most (moved from the queue to a full key's parked list): bounds the script's time. */
  parkPerCall: 200,
  /** Due keys one take call serves at most from the ready set. */
  readyPerCall: 100,
  /**
   * An idle fetcher of a limited queue waits at most this long before looking at the ready set again: a slot a
   * reaper freed or a rate window that reopened, with no new push to wake the wait, is served within it.
   */
  idleWaitMs: 1_000,
  /** How often the audit compares each limited queue's held counts with the slot records (one supervisor per interval). */
  auditIntervalMs: 30_000,
  /** Slot records and keys one audit call reads at most (beyond it the audit skips the queue and says so). */
  auditMaxRecords: 100_000,
  /** The key of a job whose key path is missing or not a string or number. */
  missingKey: '-',
  /** The key of every job of a limited queue without a key path. */
  queueKey: '*',
  /** A key longer than this (bytes), or with a control character, becomes "sha1:<hex of it>". */
  maxKeyBytes: 128,
} as const;

/** What `verk init` writes into the generated Dockerfile and manifests. */
/**
 * Failed sign-ins to `verk web` (a wrong token on the login form, a wrong Bearer token, Basic
 * password or session cookie): per client address, at most maxFailures in windowMs, then 429
 * until the oldest counted failure is windowMs old (src/web/login-limit.ts). maxAddresses bounds
 * the memory (the address seen longest ago is forgotten first).
 */
export const WEB_LOGIN = {
  maxFailures: 10,
  windowMs: 60_000,
  maxAddresses: 10_000,
} as const;

export const INIT_DEFAULTS = {
  /** The health port the generated container files open (the config's healthPort stays off locally). */
  healthPort: 9090,
  /** Kubernetes grace period = preStopSeconds + shutdownTimeout + this, so hand-back finishes before SIGKILL. */
  graceMarginMs: 5_000,
  /** Deployment/image name when the directory name is not a valid Kubernetes name. */
  name: 'verk-worker',
  /** The preStop hook quiets the pod this long before Kubernetes sends SIGTERM (part of the grace period). */
  preStopSeconds: 10,
  /** Autoscaling manifests (k8s/keda-scaledobject.yaml, k8s/hpa.yaml): replicas range and targets. */
  minReplicas: 1,
  maxReplicas: 10,
  /** Scale out when the oldest waiting job is older than this (KEDA latency trigger). */
  latencyTargetSeconds: 30,
  /** Keep each pod's busy ÷ slots near this (KEDA saturation trigger, HPA). */
  saturationTarget: 0.8,
} as const;

export function cpuCount(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}
