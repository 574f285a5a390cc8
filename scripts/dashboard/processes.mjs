// Processes of the dashboard screenshot script (scripts/dashboard-screenshots.mjs): a temp dir
// for their logs, children started in their own process groups and stopped by PID, waits with
// a deadline and backoff, free ports, the built `verk` CLI.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const VERK = path.join(REPO, 'bin', 'verk.js');
const DEADLINE_MS = 60_000;

export const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-dashboard-'));
export const children = [];
export const log = (...a) => console.log('[dashboard]', ...a);

export function need(what, check, install) {
  try {
    check();
  } catch {
    throw new Error(`${what} is missing: ${install}`);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a child in its own process group (so its workers are stopped with it) and remembers it. */
export function start(name, cmd, args, env = {}) {
  const logFile = fs.openSync(path.join(tmp, `${name}.log`), 'a');
  const child = spawn(cmd, args, { cwd: tmp, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', logFile, logFile], detached: true });
  child.exited = new Promise((r) => child.once('exit', r));
  child.label = name;
  children.push(child);
  return child;
}

export async function stop(child, signal = 'SIGTERM') {
  try {
    process.kill(-child.pid, signal);
  } catch {
    return; // gone
  }
  const killer = setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }, 15_000);
  await child.exited;
  clearTimeout(killer);
}

export async function waitFor(what, check, timeoutMs = DEADLINE_MS) {
  const until = Date.now() + timeoutMs;
  let delay = 50;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (logs in ${tmp})`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
}

export function verk(args, redisUrl) {
  return execFileSync('node', [VERK, ...args, '--redis-url', redisUrl], { cwd: tmp, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 30_000 });
}

export const day = (ms) => new Date(ms).toISOString().slice(0, 10);
