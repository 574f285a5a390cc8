// Where a project made by `verk init` gets verk-ts from: this very installation (verk-ts is not
// on a registry). `npm pack` of the installation's root (the directory holding bin/verk.js,
// found from import.meta.url) into <project>/vendor/, and a `file:vendor/<tarball>` dependency:
// self-contained, so `npm install` and the Dockerfile's `npm ci` work with no registry copy of
// verk-ts. If npm cannot pack, the dependency is `file:<installation root>` (works locally, not
// inside a Docker build) and the caller says so.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root of this installation (holds package.json and bin/verk.js). */
export const INSTALL_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface VerkDependency {
  /** The value for package.json's dependencies["verk-ts"]. */
  spec: string;
  /** Project-relative path of the tarball written, if any. */
  tarball?: string;
  /** Why packing failed, when it did. */
  warning?: string;
}

const PACK_TIMEOUT_MS = 60_000;

export function vendorVerk(projectRoot: string): VerkDependency {
  const vendor = path.join(projectRoot, 'vendor');
  const hadVendor = fs.existsSync(vendor);
  try {
    fs.mkdirSync(vendor, { recursive: true });
    const out = execFileSync('npm', ['pack', INSTALL_ROOT, '--pack-destination', vendor, '--json', '--ignore-scripts'], {
      encoding: 'utf8',
      timeout: PACK_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [{ filename }] = JSON.parse(out) as { filename: string }[];
    const rel = `vendor/${path.basename(filename)}`;
    if (!fs.existsSync(path.join(projectRoot, rel))) throw new Error(`npm pack did not write ${rel}`);
    return { spec: `file:${rel}`, tarball: rel };
  } catch (err) {
    if (!hadVendor) fs.rmSync(vendor, { recursive: true, force: true });
    const e = err as Error & { stderr?: string };
    const reason = (e.stderr?.trim().split('\n').pop() || e.message).slice(0, 300);
    return { spec: `file:${INSTALL_ROOT.replace(/\/$/, '')}`, warning: `could not pack this verk installation (${reason})` };
  }
}
