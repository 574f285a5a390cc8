// A Redis Cluster on loopback for the cluster tests: `masters` masters with `replicasPerMaster`
// replicas each, private redis-server --cluster-enabled processes on free ports, each with its own
// temp dir (cluster config file inside), started and stopped by PID. Slots are split evenly over
// the masters (CLUSTER ADDSLOTSRANGE), the nodes meet (CLUSTER MEET), replicas follow their master
// (CLUSTER REPLICATE), and startCluster resolves once every node says cluster_state:ok and all
// agree on the slot map. The rig also fails a master over to its replica (CLUSTER FAILOVER),
// moves a slot to another master (with its keys), kills and restarts nodes.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { slotOf } from '../../src/redis/slot-connector.js';
import { freePort, redisServerBinary, waitForPort } from './redis-server.js';
import { waitFor } from './wait.js';

export const SLOTS = 16384;

export interface ClusterNode {
  port: number;
  pid: number;
}

export interface ClusterRig {
  /** redis+cluster://127.0.0.1:p1,127.0.0.1:p2,… (every node as a seed). */
  url: string;
  nodes: ClusterNode[];
  /** The port of the master every node names for slot("{tag}") now. */
  masterPortFor(tag: string): Promise<number>;
  /** A client of one node (closed by stop()). */
  client(port: number): Redis;
  /** CLUSTER MYID of a node. */
  nodeId(port: number): Promise<string>;
  /** Sends a signal to the node's process (by PID); SIGKILL/SIGTERM resolve when it has exited. */
  kill(port: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a killed node again on its port with its config file (it rejoins the cluster). */
  restart(port: number): Promise<void>;
  /** CLUSTER FAILOVER on a replica; resolves when it is a master and every running node agrees. */
  failover(replicaPort: number): Promise<void>;
  /** The replica ports of a master. */
  replicasOf(masterPort: number): Promise<number[]>;
  /** Moves a slot, with its keys (MIGRATE), to another master; resolves when every running node agrees. `beforeNode` runs once the keys are moved and before the slot changes owner. */
  migrateSlot(slot: number, toPort: number, beforeNode?: () => Promise<void>): Promise<void>;
  /** Every node's view (role, state, slot owners): for a failing test's message. */
  describe(): Promise<string>;
  stop(): Promise<void>;
}

interface Proc {
  port: number;
  /** The cluster bus port (CLUSTER MEET must name it: it is not port + 10 000 here). */
  busPort: number;
  dir: string;
  args: string[];
  proc: ChildProcess;
}

const CALL_MS = 2000;

/**
 * The cluster bus listens on `busPort` (set, not Redis's default port + 10 000, which may be
 * above 65 535 or taken by another process's ephemeral port: the node would not start).
 */
function startNode(bin: string, port: number, busPort: number, dir: string): Proc {
  const args = [
    '--port',
    String(port),
    '--cluster-port',
    String(busPort),
    '--bind',
    '127.0.0.1',
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    path.join(dir, 'nodes.conf'),
    '--cluster-node-timeout',
    '1000',
    '--save',
    '',
    '--appendonly',
    'no',
    // A replica's first sync starts at once (Redis 7 waits 5 s for more replicas to join it).
    '--repl-diskless-sync-delay',
    '0',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
  return { port, busPort, dir, args, proc: spawn(bin, args, { stdio: ['ignore', 'ignore', 'ignore'] }) };
}

/**
 * A node listening on free ports. A port found free can be taken before redis-server binds it
 * (the bus port too; other tests' outgoing connections use the same ephemeral range): a node that
 * exits at start is started again on other ports, up to 5 times.
 */
async function startListening(bin: string, dir: string): Promise<Proc> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let bus = await freePort();
    while (bus === port) bus = await freePort();
    const node = startNode(bin, port, bus, dir);
    const exited = new Promise<'exited'>((r) => node.proc.once('exit', () => r('exited')));
    const up = await Promise.race([waitForPort(port, 10_000).then(() => 'up' as const), exited]);
    if (up === 'up') return node;
    if (attempt >= 5) throw new Error(`redis-server --cluster-enabled exited at start ${attempt} times (ports taken?)`);
  }
}

async function killAndWait(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  process.kill(proc.pid!, signal);
  if (signal === 'SIGKILL' || signal === 'SIGTERM') await exited;
}

/** Owner port of every slot range a node names (CLUSTER SLOTS), as "start-end:port,…". */
async function slotMapOf(c: Redis): Promise<string> {
  const reply = (await c.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  return reply
    .map(([a, b, m]) => `${a}-${b}:${m[1]}`)
    .sort((x, y) => Number(x.split('-')[0]) - Number(y.split('-')[0]))
    .join(',');
}

function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

export async function startCluster(opts: { masters?: number; replicasPerMaster?: number } = {}): Promise<ClusterRig> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 0;
  const bin = redisServerBinary();
  const procs = new Map<number, Proc>();
  const clients = new Map<number, Redis>();
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const node = await startListening(bin, fs.mkdtempSync(path.join(os.tmpdir(), 'verk-cluster-')));
    procs.set(node.port, node);
  }
  const ports = [...procs.keys()];
  const client = (port: number): Redis => {
    let c = clients.get(port);
    if (!c) {
      c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, commandTimeout: CALL_MS, connectTimeout: CALL_MS, retryStrategy: () => 100 });
      c.on('error', () => undefined);
      clients.set(port, c);
    }
    return c;
  };
  const running = () => ports.filter((p) => procs.get(p)!.proc.exitCode === null && procs.get(p)!.proc.signalCode === null);
  const nodeId = async (port: number) => String(await client(port).call('CLUSTER', 'MYID'));

  const agreed = async (): Promise<boolean> => {
    const views = await Promise.all(
      running().map(async (p) => {
        try {
          const info = String(await client(p).call('CLUSTER', 'INFO'));
          if (infoField(info, 'cluster_state') !== 'ok') return undefined;
          return await slotMapOf(client(p));
        } catch {
          return undefined;
        }
      }),
    );
    return views.every((v) => v !== undefined && v === views[0]);
  };

  const ownerOf = async (slot: number): Promise<number> => {
    for (const p of running()) {
      try {
        const reply = (await client(p).call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
        const owner = reply.find(([a, b]) => slot >= a && slot <= b);
        if (owner) return Number(owner[2][1]);
      } catch {
        // the next node
      }
    }
    throw new Error(`no running node names the master of slot ${slot}`);
  };

  const rig: ClusterRig = {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    nodes: ports.map((port) => ({
      port,
      get pid() {
        return procs.get(port)!.proc.pid!;
      },
    })),
    client,
    nodeId,
    masterPortFor: (tag) => ownerOf(slotOf(tag)),
    async kill(port, signal = 'SIGKILL') {
      clients.get(port)?.disconnect();
      clients.delete(port);
      await killAndWait(procs.get(port)!.proc, signal);
    },
    async restart(port) {
      const p = procs.get(port)!;
      procs.set(port, { ...p, proc: spawn(bin, p.args, { stdio: ['ignore', 'ignore', 'ignore'] }) });
      await waitForPort(port);
    },
    async replicasOf(masterPort) {
      const out: number[] = [];
      for (const p of running()) {
        if (p === masterPort) continue;
        const info = String(await client(p).call('INFO', 'replication'));
        if (infoField(info, 'role') === 'slave' && Number(infoField(info, 'master_port')) === masterPort) out.push(p);
      }
      return out;
    },
    async failover(replicaPort) {
      await client(replicaPort).call('CLUSTER', 'FAILOVER');
      await waitFor(async () => infoField(String(await client(replicaPort).call('INFO', 'replication')), 'role') === 'master', {
        timeoutMs: 15_000,
        what: `node ${replicaPort} to become a master`,
      });
      await waitFor(agreed, { timeoutMs: 15_000, what: 'every node to agree on the slot map after the failover' });
    },
    async migrateSlot(slot, toPort, beforeNode) {
      const fromPort = await ownerOf(slot);
      const [fromId, toId] = await Promise.all([nodeId(fromPort), nodeId(toPort)]);
      await client(toPort).call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
      await client(fromPort).call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
      for (;;) {
        const keys = (await client(fromPort).call('CLUSTER', 'GETKEYSINSLOT', String(slot), '100')) as string[];
        if (keys.length === 0) break;
        await client(fromPort).call('MIGRATE', '127.0.0.1', String(toPort), '', '0', String(CALL_MS), 'KEYS', ...keys);
      }
      await beforeNode?.();
      // The new owner first, then the old one, then everyone else (the order redis-cli uses).
      const order = [toPort, fromPort, ...running().filter((p) => p !== toPort && p !== fromPort)];
      for (const p of order) {
        const info = String(await client(p).call('INFO', 'replication'));
        if (infoField(info, 'role') === 'master') await client(p).call('CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
      }
      await waitFor(async () => (await agreed()) && (await ownerOf(slot)) === toPort, {
        timeoutMs: 15_000,
        what: 'every node to agree on the slot map after the migration',
      });
    },
    async describe() {
      const lines: string[] = [];
      for (const p of running()) {
        try {
          const info = String(await client(p).call('CLUSTER', 'INFO'));
          const role = infoField(String(await client(p).call('INFO', 'replication')), 'role');
          lines.push(`${p} ${role} state=${infoField(info, 'cluster_state')} slots=${await slotMapOf(client(p))}`);
        } catch (err) {
          lines.push(`${p} unreachable: ${(err as Error).message}`);
        }
      }
      return lines.join('\n');
    },
    async stop() {
      for (const c of clients.values()) c.disconnect();
      clients.clear();
      for (const p of procs.values()) await killAndWait(p.proc, 'SIGTERM');
      for (const p of procs.values()) fs.rmSync(p.dir, { recursive: true, force: true });
    },
  };

  try {
    await Promise.all(ports.map((p) => waitForPort(p)));
    const masterPorts = ports.slice(0, masters);
    const per = Math.floor(SLOTS / masters);
    await Promise.all(masterPorts.map((p, i) => client(p).call('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(i === masters - 1 ? SLOTS - 1 : (i + 1) * per - 1))));
    // Distinct epochs, so no collision has to be resolved before the cluster is ok.
    await Promise.all(ports.map((p, i) => client(p).call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1))));
    for (const p of ports.slice(1)) await client(p).call('CLUSTER', 'MEET', '127.0.0.1', String(ports[0]), String(procs.get(ports[0])!.busPort));
    const masterIds = await Promise.all(masterPorts.map(nodeId));
    await waitFor(
      async () => {
        for (const p of ports) {
          const known = String(await client(p).call('CLUSTER', 'NODES'))
            .trim()
            .split('\n');
          if (known.length < ports.length) return false;
        }
        return true;
      },
      { timeoutMs: 15_000, what: 'every node to know every other (CLUSTER MEET)' },
    );
    for (let r = 0; r < replicas; r++) {
      for (let m = 0; m < masters; m++) await client(ports[masters + r * masters + m]).call('CLUSTER', 'REPLICATE', masterIds[m]);
    }
    await waitFor(agreed, { timeoutMs: 20_000, what: 'cluster_state:ok and one slot map on every node' });
    if (replicas > 0) {
      await waitFor(
        async () => {
          for (const p of ports.slice(masters)) {
            const info = String(await client(p).call('INFO', 'replication'));
            if (infoField(info, 'master_link_status') !== 'up') return false;
          }
          return true;
        },
        { timeoutMs: 15_000, what: 'every replica linked to its master' },
      );
    }
  } catch (err) {
    const view = await rig.describe().catch(() => '');
    await rig.stop();
    throw new Error(`${(err as Error).message}\n${view}`);
  }
  return rig;
}

/**
 * `n` queue names whose slots (slot("{name}")) are served by `n` different masters now: names
 * queue-0, queue-1, …, the first found on each master (from one node's slot map).
 */
export async function queuesOnDistinctMasters(rig: ClusterRig, n = 3): Promise<string[]> {
  const node = rig.nodes[0].port;
  const reply = (await rig.client(node).call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const byMaster = new Map<number, string>();
  for (let i = 0; i < 100_000 && byMaster.size < n; i++) {
    const name = `queue-${i}`;
    const slot = slotOf(name);
    const port = Number(reply.find(([a, b]) => slot >= a && slot <= b)?.[2][1]);
    if (port && !byMaster.has(port)) byMaster.set(port, name);
  }
  if (byMaster.size < n) throw new Error(`the cluster has fewer than ${n} masters serving slots`);
  return [...byMaster.values()];
}
