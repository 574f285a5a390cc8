// A worker process's guard against a broken stdout/stderr and against outliving its supervisor.
// Writes to a closed pipe (`verk work 2>&1 | head`) must never throw, spin or keep the process
// alive: both streams get an 'error' listener (the logger then stops writing). Once the IPC
// channel is gone (the supervisor died), the process is an orphan: the signals it ignored while
// the supervisor handled them for the group (SIGTERM, SIGINT, SIGHUP) now end it at once, and a
// deadline ends it even if handing its jobs back hangs (its heartbeat has stopped with the
// supervisor, so whatever it still holds is reaped by a live node after the TTL).
import { DEFAULTS } from '../config/defaults.js';
import { watchStream } from '../util/logger.js';

/** Exit code of an orphan ended by a signal or by its deadline (same as a fenced node). */
export const ORPHAN_EXIT = 3;
const ORPHAN_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** Time an orphan gets beyond its shutdown timeout to hand its jobs back before it exits regardless. */
const ORPHAN_MARGIN_MS = 5_000;

/**
 * Installs the guard. `shutdownTimeoutMs` is read when the supervisor goes away (undefined before
 * the config arrived: the default); the orphan exits at the latest that long + a 5 s margin later.
 */
export function guardWorkerStdio(shutdownTimeoutMs: () => number | undefined): void {
  watchStream(process.stdout);
  watchStream(process.stderr);
  process.once('disconnect', () => {
    for (const sig of ORPHAN_SIGNALS) process.on(sig, () => process.exit(ORPHAN_EXIT));
    const ms = Math.min((shutdownTimeoutMs() ?? DEFAULTS.shutdownTimeout) + ORPHAN_MARGIN_MS, 2 ** 31 - 1);
    setTimeout(() => process.exit(ORPHAN_EXIT), ms).unref();
  });
}
