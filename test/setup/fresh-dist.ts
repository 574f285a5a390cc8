// Vitest global setup of the tiers that run the built binary (bin/verk.js → dist/): a test never
// runs against a dist/ older than src/. When any src/**/*.ts (or tsconfig.json) is newer than its
// compiled file, or the file is missing, it builds once with `tsc -p tsconfig.json`; when the
// build fails it refuses with one line. lua/ and templates/ need no check: dist/ reads them from
// the checkout at run time (src/redis/scripts.ts, src/cli/commands/init.ts), they are never copied.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** The first source file whose compiled dist/ file is missing or older, or undefined when dist/ is fresh. */
export function staleSource(root = ROOT): string | undefined {
  const src = path.join(root, 'src');
  const tsconfig = mtime(path.join(root, 'tsconfig.json'));
  for (const file of sources(src)) {
    const out = mtime(path.join(root, 'dist', path.relative(src, file)).replace(/\.ts$/, '.js'));
    if (out < 0 || out < mtime(file) || out < tsconfig) return path.relative(root, file);
  }
  return undefined;
}

export default function setup(): void {
  const stale = staleSource();
  if (stale === undefined) return;
  const started = Date.now();
  try {
    execFileSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '')
      .trim()
      .split('\n')[0];
    throw new Error(`dist/ is older than ${stale} and \`tsc -p tsconfig.json\` failed (${out}): fix the build, tests run the built binary`);
  }
  console.log(`[fresh-dist] ${stale} had no up-to-date dist/ file: built with tsc in ${Date.now() - started} ms`);
}
