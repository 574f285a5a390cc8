// Summary of the repetitions of one payload or high-concurrency row: median jobs/s, bytes per
// job and commands per job, and the longest command over all repetitions (the worst one seen).
import { median, round } from './stats.mjs';

export function summarizeRuns(runs) {
  const ok = runs.filter((r) => r && !r.error);
  if (!ok.length) return undefined;
  const med = (f) => median(ok.map(f));
  let longest;
  for (const r of ok) if (r.longestCommand && (!longest || r.longestCommand.ms > longest.ms)) longest = r.longestCommand;
  return {
    jobsPerSec: med((r) => r.jobsPerSec),
    runs: ok.map((r) => r.jobsPerSec),
    bytesPerJob: med((r) => r.bytesInPerJob + r.bytesOutPerJob),
    bytesInPerJob: med((r) => r.bytesInPerJob),
    bytesOutPerJob: med((r) => r.bytesOutPerJob),
    commandsPerJob: med((r) => r.commands.total),
    longestMs: longest?.ms,
    longestCommand: longest?.command,
    longestPerRun: ok.map((r) => r.longestCommand?.ms),
    rssLoadMiB: round(Math.max(...ok.map((r) => r.rssLoadMiB)), 1),
  };
}
