// libfaketime for tests that step a process's wall clock (monotonic clocks and Redis's TIME are
// untouched): the env that loads it with the offset read from a file on every call, after a
// probe proved it steps a child's Date.now(); or why it cannot (the caller skips and says so).
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const LIB_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
  '/usr/local/lib/faketime/libfaketime.so.1',
];

/** The env that runs a process under libfaketime stepping by the offset in `file` (e.g. "+12"), or why it cannot. */
export function faketimeEnv(file: string): { env?: Record<string, string>; why?: string } {
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
