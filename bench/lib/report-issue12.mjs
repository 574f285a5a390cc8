// Tables of the fleet, payload and high-concurrency suites (issue 12), in the format of the main
// report (bench/lib/report.mjs: each figure, verk/peer ratios, the issue's goal with ✅/❌), plus
// the fleet's check of the simulation against real processes, the cost fits and the longest
// commands by name.
import { fitCost } from '../suites/fleet.mjs';
import { sizeLabel } from '../suites/payload.mjs';
import { JITTER_MS } from '../suites/highc.mjs';
import { markdownTable } from './report.mjs';
import { round } from './stats.mjs';

/** Goals of issue 12 (NaN / undefined = not measured → no verdict). */
export const goals = {
  perNode: (_rb, _re, row) => ['≤ 2 per node', row.verk === undefined || row.saturated ? undefined : row.verk <= 2],
  fleet5000: (_rb, _re, row) => ['< 10 000 at 5 000 nodes', row.verk === undefined || row.saturated ? undefined : row.verk < 10_000],
  payloadRate: (_rb, re) => ['≥ 1.0× Bee-Queue', Number.isNaN(re) ? undefined : re >= 1.0],
  payloadBytes: (size) => (_rb, _re, row) => [
    `≤ 1.2 × payload + 300 B (${Math.round(1.2 * size + 300).toLocaleString('en-US')})`,
    row.verk === undefined ? undefined : row.verk <= 1.2 * size + 300,
  ],
  longest: (_rb, _re, row) => ['≤ 5 ms', row.verk === undefined ? undefined : row.verk <= 5],
};

const pct = (x) => (x === undefined ? undefined : x * 100);

export function fleetTables(rows, sizes, realSizes) {
  const get = (fleet, n) => {
    const r = rows[`${fleet}:${n}`];
    return r && !r.error && !r.skipped ? r : undefined;
  };
  const out = [];
  for (const n of sizes) {
    const v = get('verk-sim', n);
    const b = get('bullmq', n);
    const e = get('bee', n);
    const sat = v?.saturated ? ` (verk: ${v.nodes} pods, saturated — a lower bound)` : '';
    const base = { bullmq: b, bee: e };
    out.push({
      label: `idle fleet of ${n}: Redis commands/s${sat}`,
      verk: v?.commandsPerSec,
      bullmq: base.bullmq?.commandsPerSec,
      bee: base.bee?.commandsPerSec,
      digits: 0,
      saturated: v?.saturated,
      ...(n === 5000 ? { target: goals.fleet5000 } : {}),
    });
    out.push({
      label: `idle fleet of ${n}: commands/s per node${sat}`,
      verk: v?.commandsPerSecPerNode,
      bullmq: b?.commandsPerSecPerNode,
      bee: e?.commandsPerSecPerNode,
      digits: 2,
      saturated: v?.saturated,
      target: goals.perNode,
    });
    out.push({ label: `idle fleet of ${n}: Redis CPU (% of one core)${sat}`, verk: pct(v?.redisCpu), bullmq: pct(b?.redisCpu), bee: pct(e?.redisCpu), digits: 1 });
  }
  const lines = [markdownTable(out), ''];
  const check = [
    '| nodes | verk real processes (cmds/s) | verk simulated (cmds/s) | sim/real | Redis CPU real / sim (%) | client RSS per pod real / sim (MiB) |',
    '|---:|---:|---:|---:|---|---|',
  ];
  for (const n of realSizes) {
    const r = get('verk-real', n);
    const s = get('verk-sim', n);
    if (!r && !s) continue;
    const f = (x, d = 0) => (x === undefined || Number.isNaN(x) ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
    check.push(
      `| ${n} | ${f(r?.commandsPerSec, 1)} | ${f(s?.commandsPerSec, 1)} | ${r && s ? `${(s.commandsPerSec / r.commandsPerSec).toFixed(3)}×` : '–'} | ${f(pct(r?.redisCpu), 2)} / ${f(pct(s?.redisCpu), 2)} | ${f(r && r.clientRssMiB / r.nodes, 1)} / ${f(s && s.clientRssMiB / s.nodes, 1)} |`,
    );
  }
  if (check.length > 2) lines.push('Simulation check (same N, real `verk work` processes vs simulated pods):', '', check.join('\n'), '');
  const fits = [];
  for (const [fleet, name] of [
    ['verk-real', 'verk, real processes'],
    ['verk-sim', 'verk, simulated'],
    ['bullmq', 'BullMQ'],
    ['bee', 'Bee-Queue'],
  ]) {
    const pts = Object.entries(rows)
      .filter(([k]) => k.startsWith(`${fleet}:`))
      .map(([, r]) => r);
    const fit = fitCost(pts);
    if (fit) fits.push(`- ${name}: commands/s ≈ ${fit.a}·N + ${fit.b}·N² (${fit.points} unsaturated rows)`);
  }
  if (fits.length) lines.push('Idle cost fit (least squares over the unsaturated rows):', ...fits, '');
  const notes = Object.entries(rows)
    .filter(([, r]) => r.saturated || r.skipped || r.error)
    .map(([k, r]) => `- ${k}: ${r.skipped ?? r.error ?? `saturated (${r.saturated})`}`);
  if (notes.length) lines.push('Rows that are lower bounds or were not run:', ...notes, '');
  const top = rows['verk-sim:100'] ?? rows['verk-sim:10'];
  if (top?.byCommand)
    lines.push(
      `verk commands/s by command (${top.nodes} simulated pods): ${Object.entries(top.byCommand)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  return lines.join('\n');
}

export function payloadTable(s, sizes) {
  const rows = [];
  const g = (key, size) => s[`${key}:${size}`];
  for (const size of sizes) {
    const L = `payload ${sizeLabel(size)}`;
    const v = g('verk', size);
    const b = g('bullmq', size);
    const e = g('bee', size);
    rows.push({
      label: `${L}: throughput, c10 (jobs/s)`,
      verk: v?.jobsPerSec,
      bullmq: b?.jobsPerSec,
      bee: e?.jobsPerSec,
      ...(size >= 2000 ? { target: goals.payloadRate } : {}),
    });
    rows.push({
      label: `${L}: Redis bytes in + out per job`,
      verk: v?.bytesPerJob,
      bullmq: b?.bytesPerJob,
      bee: e?.bytesPerJob,
      ...(size >= 2000 ? { target: goals.payloadBytes(size) } : {}),
    });
    rows.push({ label: `${L}: bytes per job ÷ payload size`, verk: v?.bytesPerPayloadByte, bullmq: b?.bytesPerPayloadByte, bee: e?.bytesPerPayloadByte, digits: 2 });
    rows.push({ label: `${L}: longest command (ms)`, verk: v?.longestMs, bullmq: b?.longestMs, bee: e?.longestMs, digits: 2, target: goals.longest });
  }
  return `${markdownTable(rows)}\n\n${longestList(
    s,
    sizes.map((z) => [`${z}`, sizeLabel(z)]),
  )}`;
}

export function highcTable(s, concurrencies) {
  const rows = [];
  const g = (key, c) => s[`${key}:c${c}`];
  for (const c of concurrencies) {
    const L = `jobs of 0–${JITTER_MS} ms, concurrency ${c.toLocaleString('en-US')}`;
    rows.push({ label: `${L}: throughput (jobs/s)`, verk: g('verk', c)?.jobsPerSec, bullmq: g('bullmq', c)?.jobsPerSec, bee: g('bee', c)?.jobsPerSec });
    rows.push({
      label: `${L}: longest command (ms)`,
      verk: g('verk', c)?.longestMs,
      bullmq: g('bullmq', c)?.longestMs,
      bee: g('bee', c)?.longestMs,
      digits: 2,
      target: goals.longest,
    });
    rows.push({
      label: `${L}: Redis commands per job`,
      verk: g('verk', c)?.commandsPerJob,
      bullmq: g('bullmq', c)?.commandsPerJob,
      bee: g('bee', c)?.commandsPerJob,
      digits: 2,
    });
  }
  return `${markdownTable(rows)}\n\n${longestList(
    s,
    concurrencies.map((c) => [`c${c}`, `c${c}`]),
  )}`;
}

function longestList(s, cols) {
  const lines = ['Longest command per row (the worst over the repetitions; Redis wall time, so a busy machine inflates it):'];
  for (const key of ['verk', 'bullmq', 'bee']) {
    const parts = cols.map(([id, label]) => {
      const x = s[`${key}:${id}`];
      if (!x?.longestCommand) return undefined;
      const each = x.longestPerRun.length > 1 ? ` (each run: ${x.longestPerRun.map((v) => round(v, 1)).join(', ')} ms)` : '';
      return `${label} ${round(x.longestMs, 2)} ms ${x.longestCommand}${each}`;
    });
    if (parts.some(Boolean)) lines.push(`- ${key}: ${parts.filter(Boolean).join('; ')}`);
  }
  return lines.join('\n');
}
