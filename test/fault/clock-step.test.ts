// Fault: the wall clock of the host steps forward (NTP correction, VM resume) while long jobs
// run. `verk work` runs under libfaketime with only the wall clock faked (monotonic clocks and
// Redis's TIME are untouched); the clock steps +12 s, then +130 s more. No job may be aborted
// and no worker process killed as hung: fencing and the hang check must not ride on Date.now().
// Skipped, with the reason printed, where libfaketime cannot be loaded (.ci/run installs it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { useFaultRig, startFaultWorker, stopAllWorkers, stopWorker, enqueueCount, waitDone, waitLiveNodes, count, sleep, logLines } from '../helpers/fault-kit.js';
import { waitFor } from '../helpers/wait.js';

const LIB_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1',
];

/** The env that runs a process under libfaketime stepping by the offset in `file`, or why it cannot. */
function faketimeEnv(file: string): { env?: Record<string, string>; why?: string } {
  const lib = LIB_CANDIDATES.find((p) => fs.existsSync(p));
  if (!lib) return { why: `libfaketime.so.1 not found (looked in ${LIB_CANDIDATES.join(', ')}); install it with \`apt-get install faketime\`` };
  const env = { LD_PRELOAD: lib, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' };
  // Prove it loads and steps the wall clock: a child's Date.now() is 100 s ahead of ours.
  const probe = path.join(path.dirname(file), 'probe');
  fs.writeFileSync(probe, '+100');
  try {
    const out = execFileSync('node', ['-e', 'console.log(Math.round((Date.now() - Number(process.env.REAL_NOW)) / 1000))'], {
      env: { ...process.env, ...env, FAKETIME_TIMESTAMP_FILE: probe, REAL_NOW: String(Date.now()) },
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (Number(out.trim()) < 90) return { why: `libfaketime at ${lib} loaded but did not step the wall clock (offset ${out.trim()} s)` };
  } catch (err) {
    return { why: `node does not run under libfaketime (${lib}): ${(err as Error).message.split('\n')[0]}` };
  }
  return { env };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-faketime-'));
const offsetFile = path.join(dir, 'offset');
fs.writeFileSync(offsetFile, '+0');
const ft = faketimeEnv(offsetFile);
if (ft.why) console.log(`[skipped] clock-step scenario: ${ft.why}`);

const rig = useFaultRig();
afterEach(stopAllWorkers);

const JOBS = 20;

describe('wall-clock step', () => {
  (ft.env ? it : it.skip)(
    '+12 s then +130 s while long jobs run: no job aborted, no worker killed as hung',
    async () => {
      const r = rig();
      fs.writeFileSync(offsetFile, '+0');
      const jids = await enqueueCount(r, JOBS, 4000);
      const w = startFaultWorker(r, ['--queues', 'default:10', '--processes', '2'], ft.env);
      const nodes = await waitLiveNodes(r, 2, 20_000);
      await waitFor(
        async () => {
          let n = 0;
          for (const k of await r.server.client.keys('inprogress:*')) n += await r.server.client.llen(k);
          return n === JOBS;
        },
        { what: 'every job running', timeoutMs: 20_000 },
      );
      fs.writeFileSync(offsetFile, '+12');
      await sleep(1000);
      fs.writeFileSync(offsetFile, '+142');
      await waitDone(r, JOBS, 20_000).catch(() => undefined);
      const res = await stopWorker(w);
      const killed = logLines(res.all, 'worker process does not answer').length;
      const fenced = logLines(res.all, 'node fenced').length;
      const f = await count(r, 'wall clock +12 s then +130 s', jids, { workers_killed_as_hung: killed, nodes_fenced: fenced, nodes: nodes.length });
      expect(killed).toBe(0);
      expect(fenced).toBe(0);
      expect(f.lost).toBe(0);
      expect(f.stuck).toBe(0);
      expect(f.done).toBe(JOBS);
      expect(f.retry).toBe(0);
      expect(f.extraExecutions).toBe(0);
    },
    60_000,
  );
});
