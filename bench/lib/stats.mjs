// Small numeric helpers: median, percentiles, rates, and parsing of `INFO commandstats`.

export const median = (xs) => percentile(xs, 50);

/** Nearest-rank percentile of a list of numbers (p in 0..100). */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))];
}

/** `INFO commandstats` text → { command: calls } (commands run inside Lua scripts included). */
export function parseCommandstats(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Commands per job: total and per command (highest first, < 0.0005 left out), minus the bench's own calls. */
export function perJob(stats, jobs, own = {}) {
  const breakdown = {};
  let total = 0;
  for (const [cmd, calls] of Object.entries(stats)) {
    if (cmd === 'config|resetstat' || cmd === 'info') continue;
    const n = calls - (own[cmd] ?? 0);
    if (n <= 0) continue;
    breakdown[cmd] = n / jobs;
    total += n;
  }
  const sorted = Object.fromEntries(
    Object.entries(breakdown)
      .filter(([, v]) => v >= 0.0005)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, round(v, 3)]),
  );
  return { total: round(total / jobs, 2), breakdown: sorted };
}

export const round = (x, digits = 0) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export const nowMs = () => performance.timeOrigin + performance.now();
