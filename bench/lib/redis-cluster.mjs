// A private Redis Cluster for one bench invocation: `masters` redis-server processes with
// --cluster-enabled on free loopback ports (no persistence, no replicas), the 16 384 slots split
// evenly, joined with CLUSTER MEET, ready once every node says cluster_state:ok. Stopped by PID.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitForPort } from './redis-server.mjs';

const SLOTS = 16384;

async function until(check, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`cluster: ${what} not reached within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Returns { url (redis+cluster://), nodes: [{ port, pid, admin, slots: [from, to] }], stop() }. */
export async function startCluster(masters) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-bench-cluster-'));
  const nodes = [];
  for (let i = 0; i < masters; i++) {
    const port = await freePort();
    let bus = await freePort();
    while (bus === port) bus = await freePort();
    // The bus port set (Redis's default, port + 10 000, may be above 65 535 or taken).
    const args = [
      '--cluster-port',
      String(bus),
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ];
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '5000', '--dir', dir);
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    await new Promise((resolve, reject) => {
      proc.once('spawn', resolve);
      proc.once('error', (err) => reject(new Error(`cannot start redis-server (is it on PATH?): ${err.message}`)));
    });
    const exited = new Promise((r) => proc.once('exit', r));
    const from = Math.floor((SLOTS * i) / masters);
    const to = Math.floor((SLOTS * (i + 1)) / masters) - 1;
    nodes.push({
      port,
      bus,
      pid: proc.pid,
      proc,
      exited,
      slots: [from, to],
      admin: new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null, lazyConnect: true }),
    });
  }
  const stop = async () => {
    for (const n of nodes) {
      n.admin.disconnect();
      if (n.proc.exitCode === null && n.proc.signalCode === null) process.kill(n.pid, 'SIGTERM');
      await Promise.race([n.exited, new Promise((r) => setTimeout(r, 3000).unref())]);
      if (n.proc.exitCode === null && n.proc.signalCode === null) process.kill(n.pid, 'SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const n of nodes) {
      await waitForPort(n.port);
      await n.admin.connect();
    }
    for (const n of nodes) await n.admin.call('CLUSTER', 'ADDSLOTSRANGE', String(n.slots[0]), String(n.slots[1]));
    for (const n of nodes.slice(1)) await nodes[0].admin.call('CLUSTER', 'MEET', '127.0.0.1', String(n.port), String(n.bus));
    for (const n of nodes) {
      await until(
        async () =>
          /cluster_state:ok/.test(String(await n.admin.call('CLUSTER', 'INFO'))) &&
          Number(/cluster_known_nodes:(\d+)/.exec(String(await n.admin.call('CLUSTER', 'INFO')))?.[1]) === masters,
        `node ${n.port} ok`,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`, nodes, stop };
}
