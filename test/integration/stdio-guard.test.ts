// src/runner/stdio-guard.ts in a real forked process: once its IPC channel is gone (the
// supervisor died) a worker that ignored SIGTERM for the group is ended by SIGTERM, and one that
// could not finish by itself exits at its deadline; writes into a closed stderr never throw.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';

const GUARD = fileURLToPath(new URL('../../dist/runner/stdio-guard.js', import.meta.url));
const LOGGER = fileURLToPath(new URL('../../dist/util/logger.js', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-guard-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in worker: guard installed, SIGTERM ignored like worker-entry, kept alive by a timer, logging. */
function worker(shutdownTimeoutMs: number): ChildProcess {
  const file = path.join(dir, `w-${shutdownTimeoutMs}.mjs`);
  fs.writeFileSync(
    file,
    `
import { writeFileSync } from 'node:fs';
import { guardWorkerStdio } from ${JSON.stringify(GUARD)};
import { createLogger } from ${JSON.stringify(LOGGER)};
guardWorkerStdio(() => ${shutdownTimeoutMs});
const log = createLogger({ format: 'json' });
process.on('uncaughtException', (e) => log.error('uncaught', { error: e.message }));
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => undefined);
// Tells the test that this process has seen its IPC channel close (the guard acts on the same event).
process.once('disconnect', () => writeFileSync(${JSON.stringify(path.join(dir, `w-${shutdownTimeoutMs}.orphaned`))}, '1'));
setInterval(() => log.info('still here'), 5);
process.send('ready');
`,
  );
  const child = fork(file, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  child.stderr!.once('data', () => child.stderr!.destroy()); // its log reader goes away
  return child;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}

describe('stdio guard of a worker process', () => {
  it('ignores SIGTERM while connected, and exits on SIGTERM once orphaned', async () => {
    const child = worker(60_000);
    await new Promise((r) => child.once('message', r));
    await waitFor(() => child.stderr!.destroyed, { what: 'the log pipe closed' });
    child.kill('SIGTERM');
    // Still connected: the supervisor decides what a group signal means; the child must stay.
    await waitFor(() => child.connected && child.exitCode === null && child.signalCode === null, { what: 'child alive' });
    const gone = exited(child);
    child.disconnect();
    await waitFor(() => !child.connected && fs.existsSync(path.join(dir, 'w-60000.orphaned')), { what: 'the child to see its IPC channel close' });
    const sentAt = Date.now();
    child.kill('SIGTERM');
    const res = await Promise.race([gone, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
    console.log(`[measured] orphan ended by SIGTERM after ${Date.now() - sentAt} ms: ${JSON.stringify(res)}`);
    expect(res).toEqual({ code: 3, signal: null });
  });

  it('an orphan that cannot finish exits by itself at shutdownTimeout + 5 s', async () => {
    const child = worker(100);
    await new Promise((r) => child.once('message', r));
    const gone = exited(child);
    const at = Date.now();
    child.disconnect();
    const res = await Promise.race([gone, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 25_000))]);
    console.log(`[measured] orphan exited by its deadline after ${Date.now() - at} ms: ${JSON.stringify(res)}`);
    expect(res).toEqual({ code: 3, signal: null });
  }, 30_000);
});
