// Starts a private redis-server for one test file on a free port and stops it by its PID.
// Tests never use the shared instance on 6379.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

export interface RedisServer {
  port: number;
  url: string;
  pid: number;
  dir: string;
  /** A connected client (closed by stop()). */
  client: Redis;
  stop(): Promise<void>;
  /** Kills the server and starts it again on the same port and directory (AOF keeps the data), after `downMs` without a server. */
  restart(downMs?: number): Promise<void>;
}

const INSTALL_HINT = 'redis-server is not on PATH: install it with `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis`';

export function redisServerBinary(): string {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return 'redis-server';
  } catch {
    throw new Error(INSTALL_HINT);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRedis(opts: { appendonly?: boolean } = {}): Promise<RedisServer> {
  const bin = redisServerBinary();
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--dir',
    dir,
    '--appendonly',
    opts.appendonly ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
  let proc: ChildProcess = spawnServer(bin, args);
  await waitForPort(port);
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null, lazyConnect: false });
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    get pid() {
      return proc.pid!;
    },
    dir,
    client,
    async stop() {
      client.disconnect();
      await killAndWait(proc);
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async restart(downMs = 0) {
      await killAndWait(proc, 'SIGKILL');
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      proc = spawnServer(bin, args);
      await waitForPort(port);
    },
  };
  return server;
}

function spawnServer(bin: string, args: string[]): ChildProcess {
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return proc;
}

async function killAndWait(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill(signal);
  await exited;
}

export async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
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
