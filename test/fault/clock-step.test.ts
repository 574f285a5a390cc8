// Fault: the wall clock of the host steps forward (NTP correction, VM resume) while long jobs
// run. `verk work` runs under libfaketime with only the wall clock faked (monotonic clocks and
// Redis's TIME are untouched); the clock steps +12 s, then +130 s more. No job may be aborted
// and no worker process killed as hung: fencing and the hang check must not ride on Date.now().
// Skipped, with the reason printed, where libfaketime cannot be loaded (.ci/run installs it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useFaultRig, startFaultWorker, stopAllWorkers, stopWorker, enqueueCount, waitDone, waitLiveNodes, count, sleep, logLines } from '../helpers/fault-kit.js';
import { waitFor } from '../helpers/wait.js';
import { faketimeEnv } from '../helpers/faketime.js';

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
