// Every default value of the project lives here and nowhere else.
import os from 'node:os';

export const DEFAULTS = {
  redisUrl: 'redis://127.0.0.1:6379/0',
  /** Prepended to every key; empty to share keys with verk (Elixir) and Sidekiq. */
  prefix: '',
  queues: 'default:10',
  /** Worker processes per `verk work`; 0 means one per CPU core. */
  processes: 0,
  handlers: './jobs',
  /** Base of generated node ids; empty means the hostname (the pod name on Kubernetes). */
  nodeId: '',
  fixedNodeId: false,

  heartbeatInterval: 5_000,
  nodeTtl: 20_000,
  reaperInterval: 5_000,
  maxRecoveries: 3,
  /** A worker process whose event loop does not answer a ping for this long is killed. */
  hangTimeout: 120_000,
  /** How long a recovery is remembered when counting recoveries of one job. */
  recoveryWindow: 7 * 86_400_000,
  /** Jobs moved per script call when reaping a huge in-progress list. */
  reapBatch: 1_000,
  /** Recovery events kept in `verk:recoveries`. */
  recoveryHistory: 1_000,

  schedulerInterval: 1_000,
  schedulerBatch: 100,
  /** How long an idle fetcher blocks on an empty queue before re-checking (BLMOVE timeout). */
  blockTimeout: 2_000,
  /** A Redis command without a reply for this long fails and its connection is dropped and
   *  re-made (a half-open connection never heals by itself). Blocking waits get blockTimeout on top. */
  redisCommandTimeout: 5_000,

  shutdownTimeout: 25_000,
  /** Time a handler gets to honour an aborted signal before its worker process is recycled. */
  killGrace: 5_000,
  /** Job timeout when neither the handler nor the queue sets one; 0 means none. */
  jobTimeout: 0,

  maxRetries: 25,
  deadMaxJobs: 10_000,
  deadTimeout: 180 * 86_400_000,
  /** Backtrace lines kept in `error_backtrace`. */
  backtraceLines: 20,

  healthPort: 0,
  logLevel: 'info',
  logFormat: 'auto',
} as const;

/** Socket settings of every Redis connection (src/redis/connection.ts). */
export const REDIS_SOCKET_DEFAULTS = {
  /** TCP keep-alive: first probe after this much idle time. */
  keepAliveMs: 10_000,
  /** A closing socket that does not finish its close handshake in this time is destroyed. */
  disconnectTimeoutMs: 500,
} as const;

export type DefaultKey = keyof typeof DEFAULTS;

/** What `verk init` writes into the generated Dockerfile and manifests. */
export const INIT_DEFAULTS = {
  /** The health port the generated container files open (the config's healthPort stays off locally). */
  healthPort: 9090,
  /** Kubernetes grace period = shutdownTimeout + this, so hand-back finishes before SIGKILL. */
  graceMarginMs: 5_000,
  /** Deployment/image name when the directory name is not a valid Kubernetes name. */
  name: 'verk-worker',
} as const;

export function cpuCount(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}
