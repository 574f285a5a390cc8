// Signals of `verk work` (docs/operations.md "Signals"). Worker processes ignore signals and take
// orders from the supervisor over IPC, so a signal sent to the whole process group interrupts a
// job once. Here, in the supervisor:
//   TERM, INT, HUP (terminal closed), QUIT  graceful stop; a second one hands running jobs back now
//   TSTP                                    quiet: stop fetching, keep running jobs
//   USR2, ALRM                              logged and ignored (Node would otherwise exit at once)
// Plus the exit watchdog: a stop that has not finished after shutdownTimeout + SHUTDOWN_OVERRUN_MS
// (Redis unreachable, nothing can be written) kills what is left and exits 1.
import type { Logger } from '../util/logger.js';
import type { Config } from '../config/schema.js';

/** What the signal handlers drive: a Supervisor, or the group of one per shard (shard-group.ts). */
export interface StopTarget {
  readonly config: Readonly<Config>;
  readonly pool: { killAll(signal: NodeJS.Signals): void };
  stop(): Promise<void>;
  quiet(): void;
}

export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const;
export const QUIET_SIGNALS = ['SIGTSTP'] as const;
export const IGNORED_SIGNALS = ['SIGUSR2', 'SIGALRM'] as const;
/** Every signal a worker process ignores (it obeys its supervisor instead). */
export const WORKER_IGNORED_SIGNALS = [...STOP_SIGNALS, ...QUIET_SIGNALS, ...IGNORED_SIGNALS] as const;

/** How long past shutdownTimeout a stuck shutdown may run before the process exits anyway. */
export const SHUTDOWN_OVERRUN_MS = 4_000;

export interface SignalOptions {
  exit?: (code: number) => void;
}

/** Installs the supervisor's handlers; returns a function that removes them. */
export function handleSignals(sup: StopTarget, log: Logger, opts: SignalOptions = {}): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let watchdog: NodeJS.Timeout | undefined;
  const stop = (signal: NodeJS.Signals) => {
    log.info('signal received', { signal });
    // Last resort (Redis unreachable during shutdown): exit before the platform's grace period
    // (shutdownTimeout + 5 s) runs out; the jobs still held are recovered by peers after the TTL.
    watchdog ??= setTimeout(() => {
      log.error('shutdown did not finish in time (is Redis reachable?); exiting; peers recover the held jobs after the node TTL', {
        after_ms: sup.config.shutdownTimeout + SHUTDOWN_OVERRUN_MS,
      });
      sup.pool.killAll('SIGKILL');
      exit(1);
    }, sup.config.shutdownTimeout + SHUTDOWN_OVERRUN_MS);
    void sup.stop().then(() => exit(0));
  };
  const quiet = (signal: NodeJS.Signals) => {
    log.info('signal received', { signal });
    sup.quiet();
  };
  const ignore = (signal: NodeJS.Signals) => log.info('signal ignored (it has no meaning for verk work)', { signal });
  const installed: [NodeJS.Signals, (s: NodeJS.Signals) => void][] = [
    ...STOP_SIGNALS.map((s) => [s, stop] as [NodeJS.Signals, typeof stop]),
    ...QUIET_SIGNALS.map((s) => [s, quiet] as [NodeJS.Signals, typeof quiet]),
    ...IGNORED_SIGNALS.map((s) => [s, ignore] as [NodeJS.Signals, typeof ignore]),
  ];
  for (const [s, h] of installed) process.on(s, h);
  return () => {
    for (const [s, h] of installed) process.off(s, h);
    if (watchdog) clearTimeout(watchdog);
  };
}
