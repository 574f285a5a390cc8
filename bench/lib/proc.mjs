// Process helpers for the bench: RSS from /proc/<pid>/status, CPU time from /proc/<pid>/stat, a
// process's children (the verk supervisor's worker processes), and stopping a child by its PID
// with a deadline.

import fs from 'node:fs';

/** Resident set size of a process in MiB (VmRSS), or NaN if it is gone. */
export function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) a process has used, in seconds, or NaN if it is gone (clock ticks of 1/100 s). */
export function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of proc(5) (utime, stime) are the 12th and 13th after the command name.
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Direct children of a process, from /proc/<pid>/task/<tid>/children. */
export function childrenOf(pid) {
  const out = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    /* gone */
  }
  return out;
}

const live = new Set();

/** Remembers a child process so killTracked() can stop it if the bench is interrupted. */
export function track(proc) {
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  return proc;
}

/** SIGKILLs every tracked child still running, by PID, and their direct children. */
export function killTracked() {
  for (const proc of live) {
    const kids = childrenOf(proc.pid);
    for (const pid of [proc.pid, ...kids]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

const alive = (proc) => proc.exitCode === null && proc.signalCode === null;

/** True if `pid` still runs a command line containing `needle` (guards against PID reuse). */
export function runs(pid, needle) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
  } catch {
    return false;
  }
}

/**
 * Sends SIGTERM to the child by PID, waits up to `graceMs`, then SIGKILLs it; afterwards
 * SIGKILLs any of `alsoKill` (PIDs it started) that still run a command containing `needle`.
 */
export async function stopChild(proc, { graceMs = 10_000, alsoKill = [], needle = 'node' } = {}) {
  if (alive(proc)) {
    const exited = new Promise((r) => proc.once('exit', r));
    try {
      process.kill(proc.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, graceMs).unref())]);
    if (alive(proc)) {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await exited;
    }
  }
  for (const pid of alsoKill) {
    if (!runs(pid, needle)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
