// A Sentinel deployment on loopback for the failover tier: a primary, a replica and three
// redis-sentinel processes (Debian's redis-sentinel package), each on a private port with its own
// temp dir, started and stopped by PID. The rig can fail over by SENTINEL FAILOVER, kill -9 the
// primary (and restart it as a replica of the new one), and make the replica lag (CLIENT PAUSE),
// or, with `replicaLink: 'proxy'`, cut its replication stream exactly (a TCP proxy between the
// replica and the primary: `link.freeze()` stops the stream while both servers keep answering).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitForPort } from './redis-server.js';
import { waitFor } from './wait.js';
import { startProxy, type TcpProxy } from './tcp-proxy.js';

export const MASTER_NAME = 'verkha';

/** Why the failover tier cannot run here, or undefined when it can. */
export function sentinelMissing(): string | undefined {
  for (const bin of ['redis-server', 'redis-sentinel']) {
    try {
      execFileSync(bin, ['--version'], { stdio: 'ignore' });
    } catch {
      return `${bin} is not on PATH (install Debian's redis-sentinel: apt-get install -y redis-sentinel)`;
    }
  }
  return undefined;
}

interface Proc {
  port: number;
  dir: string;
  args: string[];
  bin: string;
  proc: ChildProcess;
}

export interface DataNode {
  port: number;
  client: Redis;
}

export interface SentinelRig {
  /** The two data nodes (which one is the primary changes). */
  nodes: DataNode[];
  sentinelPorts: number[];
  /**
   * With `replicaLink: 'proxy'`: the proxy the first replica replicates through (freeze() holds
   * the stream back: the replica answers and looks linked, and a failover promotes its past state).
   */
  link?: TcpProxy;
  /** redis+sentinel://127.0.0.1:p1,…/verkha/0 */
  url: string;
  /** The data node the Sentinels name as primary now. */
  primary(): Promise<DataNode>;
  replica(): Promise<DataNode>;
  /** SENTINEL FAILOVER; resolves when the Sentinels name the other node and it is a writable primary. */
  failover(): Promise<{ from: number; to: number }>;
  /** kill -9 of the primary; resolves when the Sentinels promoted the replica (the killed one stays down). */
  killPrimary(): Promise<{ from: number; to: number }>;
  /**
   * Makes a demoted primary that is still running follow the new one now (REPLICAOF). Sentinel does
   * the same on its own, but only after the old primary has reported itself a master for a while
   * (about 8–10 s here); the CI run does it at once to keep its time short.
   */
  rejoin(port: number): Promise<void>;
  /** Restarts a killed node as a replica of the current primary and waits until it is in sync. */
  restartAsReplica(port: number): Promise<void>;
  /** Waits until the replica has every write of the primary. */
  inSync(): Promise<void>;
  /** kill -9 of every Sentinel; `downMs` later they start again with their (rewritten) config files. */
  restartSentinels(downMs: number): Promise<void>;
  /** What each Sentinel names and each data node says of its role: for a failing test's message. */
  describe(): Promise<string>;
  stop(): Promise<void>;
}

function spawnProc(p: Omit<Proc, 'proc'>): Proc {
  const proc = spawn(p.bin, p.args, { stdio: ['ignore', 'ignore', 'ignore'] });
  return { ...p, proc };
}

async function killAndWait(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill(signal);
  await exited;
}

function dataArgs(port: number, dir: string, replicaOf?: number): string[] {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    '--repl-diskless-sync-delay',
    '0',
  ];
  if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf));
  return args;
}

async function replicationField(redis: Redis, field: string): Promise<string | undefined> {
  const text = await redis.info('replication');
  return new RegExp(`^${field}:(.*)$`, 'm').exec(text)?.[1]?.trim();
}

export interface SentinelRigOptions {
  downAfterMs?: number;
  /**
   * How the first replica reaches the primary: directly (default) or through a TCP proxy
   * (`rig.link`). A Sentinel re-points a replica whose master address is not the one it monitors
   * (+fix-slave-config) once failover-timeout has passed since it last changed it, which would
   * bypass the proxy: with the proxy, failover-timeout is 120 s (one failover per such rig).
   */
  replicaLink?: 'direct' | 'proxy';
}

export async function startSentinelRig(opts: SentinelRigOptions = {}): Promise<SentinelRig> {
  const procs = new Map<number, Proc>();
  const held: { link?: TcpProxy } = {};
  try {
    return await buildRig(procs, opts.downAfterMs ?? 1000, opts.replicaLink === 'proxy', held);
  } catch (err) {
    // Nothing is left running when the rig cannot come up.
    await held.link?.close();
    for (const p of procs.values()) await killAndWait(p.proc, 'SIGKILL');
    for (const p of procs.values()) fs.rmSync(p.dir, { recursive: true, force: true });
    throw err;
  }
}

async function buildRig(procs: Map<number, Proc>, downAfter: number, proxied: boolean, held: { link?: TcpProxy }): Promise<SentinelRig> {
  const start = async (bin: string, port: number, dir: string, args: string[]) => {
    const p = spawnProc({ bin, port, dir, args });
    procs.set(port, p);
    await waitForPort(port, 10_000);
  };
  const [pPort, rPort] = [await freePort(), await freePort()];
  const dirs = [pPort, rPort].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'verk-ha-')));
  await start('redis-server', pPort, dirs[0], dataArgs(pPort, dirs[0]));
  // The primary sees the proxy's connection as the replica's; the replica announces its own port.
  if (proxied) held.link = await startProxy({ port: pPort });
  await start('redis-server', rPort, dirs[1], dataArgs(rPort, dirs[1], held.link?.port ?? pPort));
  const nodes: DataNode[] = [pPort, rPort].map((port) => ({ port, client: new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null }) }));
  nodes.forEach((n) => n.client.on('error', () => undefined));
  await waitFor(async () => (await replicationField(nodes[1].client, 'master_link_status')) === 'up', { what: 'replica linked', timeoutMs: 15_000 });
  const sentinelPorts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-sentinel-'));
    const conf = path.join(dir, 'sentinel.conf');
    fs.writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'daemonize no',
        `dir ${dir}`,
        'loglevel warning',
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${pPort} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${downAfter}`,
        `sentinel failover-timeout ${MASTER_NAME} ${proxied ? 120_000 : 3000}`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        '',
      ].join('\n'),
    );
    await start('redis-sentinel', port, dir, [conf]);
    sentinelPorts.push(port);
  }
  const sentinels = sentinelPorts.map((port) => {
    const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
    c.on('error', () => undefined);
    return c;
  });
  const named = async (): Promise<number> => {
    for (const s of sentinels) {
      const r = (await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME).catch(() => null)) as [string, string] | null;
      if (r) return Number(r[1]);
    }
    throw new Error('no Sentinel names a primary');
  };
  const node = (port: number) => nodes.find((n) => n.port === port)!;
  // Every Sentinel knows the replica and the other Sentinels before a test fails anything over.
  await waitFor(
    async () => {
      for (const s of sentinels) {
        const m = (await s.call('SENTINEL', 'MASTER', MASTER_NAME)) as string[];
        const f = new Map<string, string>();
        for (let i = 0; i < m.length; i += 2) f.set(m[i], m[i + 1]);
        if (Number(f.get('num-slaves')) < 1 || Number(f.get('num-other-sentinels')) < 2) return false;
      }
      return true;
    },
    { what: 'Sentinels to see the replica and each other', timeoutMs: 30_000, intervalMs: 100 },
  );
  /** Waits until all Sentinels name `to` and it answers as a writable primary. */
  const promoted = async (from: number): Promise<number> => {
    let to = 0;
    await waitFor(
      async () => {
        const ports = await Promise.all(sentinels.map((s) => s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME).catch(() => null)));
        const all = ports.map((r) => (r ? Number((r as string[])[1]) : 0));
        if (!all.every((p) => p !== from && p === all[0])) return false;
        to = all[0];
        return (await replicationField(node(to).client, 'role').catch(() => '')) === 'master';
      },
      { what: `the Sentinels to promote a new primary (from ${from})`, timeoutMs: 30_000, intervalMs: 20 },
    );
    return to;
  };
  const rig: SentinelRig = {
    nodes,
    sentinelPorts,
    link: held.link,
    url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${MASTER_NAME}/0`,
    primary: async () => node(await named()),
    replica: async () => {
      const p = await named();
      return nodes.find((n) => n.port !== p)!;
    },
    async failover() {
      const from = await named();
      await waitFor(
        async () =>
          await sentinels[0].call('SENTINEL', 'FAILOVER', MASTER_NAME).then(
            () => true,
            () => false, // INPROG or NOGOODSLAVE right after an earlier failover: try again
          ),
        { what: 'SENTINEL FAILOVER accepted', timeoutMs: 30_000, intervalMs: 200 },
      );
      return { from, to: await promoted(from) };
    },
    async killPrimary() {
      const from = await named();
      await killAndWait(procs.get(from)!.proc, 'SIGKILL');
      return { from, to: await promoted(from) };
    },
    async rejoin(port) {
      const master = await named();
      if (master !== port) await node(port).client.replicaof('127.0.0.1', master);
    },
    async restartAsReplica(port) {
      const p = procs.get(port)!;
      const master = await named();
      await start('redis-server', port, p.dir, dataArgs(port, p.dir, master));
      await rig.inSync();
    },
    async inSync() {
      await waitFor(
        async () => {
          const p = await rig.primary();
          const r = nodes.find((n) => n.port !== p.port)!;
          if ((await replicationField(r.client, 'master_link_status').catch(() => '')) !== 'up') return false;
          const [mo, ro] = await Promise.all([replicationField(p.client, 'master_repl_offset'), replicationField(r.client, 'slave_repl_offset')]);
          return mo !== undefined && mo === ro;
        },
        { what: 'the replica in sync', timeoutMs: 30_000, intervalMs: 50 },
      );
    },
    async restartSentinels(downMs) {
      const ps = sentinelPorts.map((port) => procs.get(port)!);
      for (const p of ps) await killAndWait(p.proc, 'SIGKILL');
      await new Promise((r) => setTimeout(r, downMs));
      for (const p of ps) await start(p.bin, p.port, p.dir, p.args);
    },
    async describe() {
      const said = await Promise.all(
        sentinels.map((s) =>
          s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME).then(
            (r) => String((r as string[])[1]),
            (e: Error) => e.message,
          ),
        ),
      );
      const roles = await Promise.all(
        nodes.map(async (n) => {
          const text = await Promise.race([n.client.info('replication'), new Promise<string>((r) => setTimeout(() => r('role:unreachable'), 1000))]).catch(
            () => 'role:error',
          );
          const f = (k: string) => new RegExp(`^${k}:(.*)$`, 'm').exec(text)?.[1]?.trim();
          return `${n.port} ${f('role')}${f('master_port') ? ` of ${f('master_port')} (${f('master_link_status')})` : ''}`;
        }),
      );
      return `sentinels name ${said.join(', ')}; nodes: ${roles.join('; ')}`;
    },
    async stop() {
      for (const c of [...sentinels, ...nodes.map((n) => n.client)]) c.disconnect();
      await held.link?.close();
      for (const p of procs.values()) await killAndWait(p.proc, 'SIGKILL');
      for (const p of procs.values()) fs.rmSync(p.dir, { recursive: true, force: true });
    },
  };
  return rig;
}
