// A private redis-server for one bench invocation: a free loopback port (never 6379), no
// persistence (--save '' --appendonly no), stopped by its own PID at the end.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';

export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port: p } = srv.address();
        srv.close(() => resolve(p));
      });
    });
    if (port !== 6379) return port;
  }
}

export async function waitForPort(port, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * How Redis is run when a bench is given `--redis-core=N`: pinned to CPU N (`taskset`) at a
 * real-time priority (`chrt -f 10`), so nothing else on the box preempts it while it runs a
 * command. That is Redis on a core of its own, as in production: SLOWLOG then measures how
 * long a command holds Redis, not how long the scheduler kept Redis off the CPU meanwhile.
 * Both tools exec, so the spawned PID is redis-server's. Off by default (a shared box).
 */
export function isolationPrefix(argv = process.argv) {
  const core = argv.find((a) => a.startsWith('--redis-core='))?.split('=')[1];
  return core === undefined ? [] : ['chrt', '-f', '10', 'taskset', '-c', core];
}

/**
 * Starts the server; returns { port, url, pid, host, admin (ioredis client), stop() }.
 * `maxclients` raises Redis's client limit (default 10 000) for the fleet suite.
 */
export async function startRedis({ maxclients } = {}) {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
  if (maxclients) args.push('--maxclients', String(maxclients));
  const [cmd, ...pre] = [...isolationPrefix(), 'redis-server'];
  const proc = spawn(cmd, [...pre, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const spawned = new Promise((resolve, reject) => {
    proc.once('spawn', resolve);
    proc.once('error', (err) => reject(new Error(`cannot start redis-server (is it on PATH?): ${err.message}`)));
  });
  await spawned;
  await waitForPort(port);
  const admin = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
  const exited = new Promise((r) => proc.once('exit', r));
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}/0`,
    pid: proc.pid,
    admin,
    async stop() {
      admin.disconnect();
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000).unref())]);
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGKILL');
    },
  };
}
