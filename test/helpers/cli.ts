// Runs the built `verk` binary (bin/verk.js → dist/) in real processes.
import { execa, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';

export const VERK_BIN = fileURLToPath(new URL('../../bin/verk.js', import.meta.url));

/** Runs a verk command to completion (never throws on a non-zero exit). */
export function verk(args: string[], opts: { env?: Record<string, string>; cwd?: string; timeout?: number } = {}) {
  return execa('node', [VERK_BIN, ...args], { reject: false, env: { NO_COLOR: '1', ...opts.env }, cwd: opts.cwd, timeout: opts.timeout ?? 30_000 });
}

/**
 * Starts `verk work` in its own process group (detached), so a test can signal or kill -9 the
 * supervisor and all its worker processes at once with process.kill(-pid, sig).
 */
export function startWorker(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): ResultPromise {
  return execa('node', [VERK_BIN, 'work', ...args], {
    reject: false,
    detached: true,
    env: { NO_COLOR: '1', ...opts.env },
    cwd: opts.cwd,
    all: true,
    buffer: true,
  });
}

/** Sends a signal to a whole process group started by startWorker; ignores an already-gone group. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* gone */
  }
}
