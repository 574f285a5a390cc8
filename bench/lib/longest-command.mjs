// The longest single command Redis ran during a bench row, from SLOWLOG (exact duration, command
// and arguments; every command at or above the threshold is logged) and INFO latencystats (p100
// per command over all commands, however short). A script is named by its SHA1 where it is one
// of verk's, BullMQ's or Bee-Queue's. Blocked time of BLMOVE/BZPOPMIN/BRPOPLPUSH is not counted
// by Redis in either, so a long block is not a long command.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from './stats.mjs';

const MAX_LEN = 10_000;
// The bench's own commands (by name in SLOWLOG, by name|subcommand in latencystats).
const OWN = /^(info|config|slowlog|flushall)(\||$)/;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Lowers the slowlog threshold (µs) and turns on the p100 latency figure; call once per Redis. */
export async function prepareLongest(admin, thresholdUs) {
  await admin.config('SET', 'slowlog-log-slower-than', String(thresholdUs));
  await admin.config('SET', 'slowlog-max-len', String(MAX_LEN));
  await admin.config('SET', 'latency-tracking', 'yes');
  await admin.config('SET', 'latency-tracking-info-percentiles', '50 99 100');
}

/** Call right after CONFIG RESETSTAT (which resets the latency histograms) at a row's start. */
export const resetLongest = (admin) => admin.slowlog('RESET');

/** { ms, command, source, slowEntries, overflow } for the commands since resetLongest. */
export async function readLongest(admin) {
  const names = await scriptNames();
  const entries = (await admin.slowlog('GET', MAX_LEN)).filter((e) => !OWN.test(String(e[3]?.[0] ?? '').toLowerCase()));
  let best;
  for (const e of entries) if (!best || Number(e[2]) > Number(best[2])) best = e;
  const lat = latencyMax(await admin.info('latencystats'));
  const out = { slowEntries: entries.length, overflow: entries.length >= MAX_LEN };
  if (best && (!lat || Number(best[2]) >= lat.us * 0.95)) return { ...out, ms: round(Number(best[2]) / 1000, 3), command: describe(best[3], names), source: 'slowlog' };
  if (lat) return { ...out, ms: round(lat.us / 1000, 3), command: lat.cmd, source: 'latencystats' };
  return { ...out, ms: NaN, command: '' };
}

function latencyMax(text) {
  let max;
  for (const line of text.split('\n')) {
    const m = /^latency_percentiles_usec_([^:]+):.*p100=([\d.]+)/.exec(line.trim());
    if (!m || OWN.test(m[1])) continue;
    if (!max || Number(m[2]) > max.us) max = { cmd: m[1], us: Number(m[2]) };
  }
  return max;
}

/** "evalsha ack-6 inprogress:bench:…" or "lrem queue:bench": the command, a script's name, its first key or argument. */
function describe(argv, names) {
  const a = argv.map(String);
  const cmd = a[0].toLowerCase();
  const short = (s) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);
  if (cmd === 'evalsha') return `evalsha ${names.get(a[1]) ?? a[1].slice(0, 8)} ${short(a[3] ?? '')}`.trim();
  // EVAL (ioredis's fallback when a script is not cached yet): the body is argv[1], cut to 128 bytes by SLOWLOG.
  if (cmd === 'eval') return `eval ${names.get(`head:${a[1].slice(0, HEAD)}`) ?? 'script'} ${short(a[3] ?? '')}`.trim();
  return `${cmd} ${short(a[1] ?? '')}`.trim();
}

const sha1 = (s) => createHash('sha1').update(s).digest('hex');
/** Scripts are also known by their first HEAD characters (SLOWLOG keeps 128 of EVAL's body). */
const HEAD = 100;
const add = (m, lua, name) => m.set(sha1(lua), name).set(`head:${lua.slice(0, HEAD)}`, name);

let cached;
/** SHA1 (and body head) → script name for verk's (dist/), BullMQ's and Bee-Queue's Lua scripts. */
async function scriptNames() {
  if (cached) return cached;
  const m = new Map();
  try {
    const { scriptSources } = await import('../../dist/redis/script-source.js');
    for (const s of scriptSources()) add(m, s.lua, `verk:${s.name}`);
  } catch {
    /* names are a nicety */
  }
  try {
    // The CommonJS build: the ESM one imports without file extensions, which Node refuses.
    const mod = createRequire(import.meta.url)(path.join(ROOT, 'node_modules/bullmq/dist/cjs/scripts/index.js'));
    for (const s of Object.values(mod)) if (s?.content) add(m, s.content, `bullmq:${s.name}`);
  } catch {
    /* idem */
  }
  try {
    const dir = path.join(ROOT, 'node_modules/bee-queue/lib/lua');
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.lua'))) add(m, fs.readFileSync(path.join(dir, f), 'utf8'), `bee:${f.slice(0, -4)}`);
  } catch {
    /* idem */
  }
  cached = m;
  return m;
}
