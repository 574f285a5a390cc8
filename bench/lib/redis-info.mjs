// Snapshots of the private Redis's counters for the fleet suite and the longest-command figure:
// INFO commandstats (calls per command, commands run inside Lua scripts included), INFO cpu
// (used_cpu_sys + used_cpu_user) and INFO stats (network bytes), and the delta between two
// snapshots. The bench's own INFO calls are left out of the command counts.
import { round } from './stats.mjs';
import { parseCommandstats } from './stats.mjs';

const OWN = new Set(['info', 'config|resetstat', 'config|set', 'config|get', 'slowlog|reset', 'slowlog|get', 'slowlog|len']);

const field = (text, name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? NaN);

/** { t (ms, monotonic), calls: { cmd: n }, cpuS, netIn, netOut, clients } */
export async function snapshot(admin) {
  const text = await admin.info('all');
  return {
    t: performance.now(),
    calls: parseCommandstats(text),
    cpuS: field(text, 'used_cpu_sys') + field(text, 'used_cpu_user'),
    netIn: field(text, 'total_net_input_bytes'),
    netOut: field(text, 'total_net_output_bytes'),
    clients: field(text, 'connected_clients'),
  };
}

/** Commands per second (total and the top commands), Redis CPU as a fraction of one core, bytes per second. */
export function rates(a, b) {
  const seconds = (b.t - a.t) / 1000;
  const per = {};
  let total = 0;
  for (const [cmd, n] of Object.entries(b.calls)) {
    if (OWN.has(cmd)) continue;
    const d = n - (a.calls[cmd] ?? 0);
    if (d <= 0) continue;
    per[cmd] = d / seconds;
    total += d;
  }
  const top = Object.fromEntries(
    Object.entries(per)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 12)
      .map(([k, v]) => [k, round(v, 1)]),
  );
  return {
    seconds: round(seconds, 2),
    commandsPerSec: round(total / seconds, 1),
    byCommand: top,
    redisCpu: round((b.cpuS - a.cpuS) / seconds, 4),
    netBytesPerSec: round((b.netIn - a.netIn + b.netOut - a.netOut) / seconds),
    clients: b.clients,
  };
}
