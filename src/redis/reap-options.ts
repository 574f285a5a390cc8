// The reap script's options built from the resolved config: one place for the reaper duty,
// a supervisor's hand-back and `verk requeue-dead`.
import type { Config } from '../config/schema.js';
import type { ReapOptions } from './scripts.js';

/**
 * Recovered jobs are marked for isolation (run alone in their worker process) from this many
 * recoveries on, so a poison pill stops taking the jobs that run beside it down with it.
 */
export function isolateFrom(maxRecoveries: number): number {
  return Math.max(1, Math.min(2, maxRecoveries));
}

export function reapOptions(config: Readonly<Config>, node: string, by: string, force = false, countRecoveries = true): ReapOptions {
  return {
    node,
    by,
    force,
    countRecoveries,
    batch: config.reapBatch,
    maxRecoveries: config.maxRecoveries,
    recoveryWindowMs: config.recoveryWindow,
    isolateFrom: isolateFrom(config.maxRecoveries),
    historyLength: config.recoveryHistory,
    deadTimeoutS: config.deadTimeout / 1000,
    deadMaxJobs: config.deadMaxJobs,
  };
}
