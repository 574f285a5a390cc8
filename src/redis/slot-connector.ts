// A connection pinned to one slot of a Redis Cluster (redis+cluster:// URLs, docs/redis-ha.md):
// owns finding the master that serves the slot. At every connect and reconnect of its ioredis
// client, the connector asks the seed nodes in turn (each ask bounded; a seed that fails, the
// next) for the slot map (CLUSTER SLOTS), has the master it names confirm the slot by its own
// map with cluster_state:ok, and opens the socket to that master. The client itself is an
// ordinary standalone one: all keys of a world share one slot, so no command is ever routed
// elsewhere; replies that say the node no longer serves the slot (MOVED, CLUSTERDOWN) make
// connection.ts reconnect, which asks again. No seed answering: the round is reported as an
// 'error' (to the outage logger) and retried with backoff. Also the slot of a tag (slotOf) and
// the masters with their slot ranges (askSeeds, for clusterMasters).
import net from 'node:net';
import calculateSlot from 'cluster-key-slot';
import { Redis, type RedisOptions } from 'ioredis';
import { withTimeout } from '../util/timeout.js';

export interface SeedAddress {
  host: string;
  port: number;
}

/** A master of the cluster and the slot ranges (inclusive) it serves. */
export interface ClusterMaster {
  host: string;
  port: number;
  slots: [number, number][];
}

export interface SlotTarget {
  seeds: SeedAddress[];
  username?: string;
  password?: string;
  /** The slot whose master the connection talks to. */
  slot: number;
  /** The bound on one ask of one seed (connect and CLUSTER SLOTS). */
  askTimeoutMs: number;
  /** The wait before the next round over the seeds after round `round` failed; null: give up. */
  retryDelay: (round: number) => number | null;
}

/** What ioredis's connectors say when they are disconnected while connecting. */
const CONNECTION_CLOSED = 'Connection is closed.';

/** The slot of a hash tag: every key "…{tag}…" hashes to it. */
export function slotOf(tag: string): number {
  return calculateSlot(`{${tag}}`);
}

/** The master serving `slot` in a slot map, if any. */
export function masterOf(masters: ClusterMaster[], slot: number): ClusterMaster | undefined {
  return masters.find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b));
}

/** What one node says of the cluster: the masters and their slots (CLUSTER SLOTS) and whether cluster_state is ok (CLUSTER INFO). */
export interface NodeView {
  masters: ClusterMaster[];
  ok: boolean;
}

/** One node's view of the cluster, on a connection of its own; bounded by `timeoutMs`. */
export async function readSlotMap(node: SeedAddress, creds: { username?: string; password?: string }, timeoutMs: number): Promise<NodeView> {
  const client = new Redis({
    host: node.host,
    port: node.port,
    username: creds.username,
    password: creds.password,
    lazyConnect: true,
    enableReadyCheck: false,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    connectionName: 'verk-slot-map',
  });
  // A refused connect rejects with "Connection is closed."; the reason comes as an 'error' event.
  let why: Error | undefined;
  client.on('error', (err: Error) => (why ??= err));
  try {
    const ask = async () => {
      await client.connect().catch((err: Error) => {
        throw why ?? err;
      });
      const [slots, info] = await Promise.all([client.call('CLUSTER', 'SLOTS'), client.call('CLUSTER', 'INFO')]);
      return { masters: mastersOf(slots, node.host), ok: /^cluster_state:ok\s*$/m.test(String(info)) };
    };
    return await withTimeout(ask(), timeoutMs, `no slot map from ${node.host}:${node.port} within ${timeoutMs}ms`);
  } catch (err) {
    throw new Error(`${node.host}:${node.port}: ${(err as Error).message}`);
  } finally {
    client.disconnect();
  }
}

/** [[start, end, [host, port, id, …], …replicas], …] → masters with their ranges ("" as host: the node asked). */
function mastersOf(reply: unknown, askedHost: string): ClusterMaster[] {
  if (!Array.isArray(reply)) throw new Error('CLUSTER SLOTS gave no list');
  const byAddress = new Map<string, ClusterMaster>();
  for (const range of reply as unknown[][]) {
    const [start, end, master] = range as [number, number, unknown[]];
    if (!Array.isArray(master) || typeof start !== 'number' || typeof end !== 'number') continue;
    const rawHost = String(master[0]);
    if (rawHost === '?') continue;
    const host = rawHost === '' ? askedHost : rawHost;
    const port = Number(master[1]);
    const key = `${host}:${port}`;
    const m = byAddress.get(key) ?? { host, port, slots: [] };
    m.slots.push([start, end]);
    byAddress.set(key, m);
  }
  return [...byAddress.values()].map((m) => ({ ...m, slots: m.slots.sort((a, b) => a[0] - b[0]) })).sort((a, b) => a.slots[0][0] - b.slots[0][0]);
}

const sameNode = (a: SeedAddress, b: SeedAddress) => a.host === b.host && a.port === b.port;

/**
 * One round over the seeds, starting at `from`: the first slot map a seed gives (with `slot`: one
 * that names a master for it, which then confirms that by its own map with cluster_state:ok, so a
 * seed's stale map or a node still joining is never connected to). Which seed answered, and the
 * slot's master. Throws the last seed's error when none did.
 */
export async function askSeeds(
  seeds: SeedAddress[],
  creds: { username?: string; password?: string },
  timeoutMs: number,
  slot?: number,
  from = 0,
  stillWanted: () => boolean = () => true,
): Promise<{ masters: ClusterMaster[]; seed: number; owner?: SeedAddress }> {
  let last: Error | undefined;
  for (let i = 0; i < seeds.length && stillWanted(); i++) {
    const at = (from + i) % seeds.length;
    const seed = seeds[at];
    try {
      const view = await readSlotMap(seed, creds, timeoutMs);
      if (view.masters.length === 0) throw new Error(`seed ${seed.host}:${seed.port} knows no slots (not part of a cluster yet?)`);
      if (slot === undefined) return { masters: view.masters, seed: at };
      const owner = masterOf(view.masters, slot);
      if (!owner) throw new Error(`seed ${seed.host}:${seed.port} names no master for slot ${slot}`);
      const own = sameNode(owner, seed) ? view : await readSlotMap(owner, creds, timeoutMs);
      const where = `${owner.host}:${owner.port}`;
      if (!own.ok) throw new Error(`the master of slot ${slot} (${where}) says cluster_state is not ok`);
      const confirmed = masterOf(own.masters, slot);
      if (!confirmed || !sameNode(confirmed, owner))
        throw new Error(`${where}, named master of slot ${slot} by ${seed.host}:${seed.port}, does not serve it by its own map`);
      return { masters: own.masters, seed: at, owner: { host: owner.host, port: owner.port } };
    } catch (err) {
      last = err as Error;
    }
  }
  throw new Error(
    `no seed of the cluster gave a slot map${slot === undefined ? '' : ` naming the master of slot ${slot}`} (${seeds.length} asked; last: ${last?.message ?? 'stopped'})`,
  );
}

/**
 * An ioredis Connector class (RedisOptions.Connector) for one slot. Written against the shape
 * of ioredis 5's AbstractConnector (connecting, stream, firstError, check, disconnect, connect),
 * without subclassing it: its module is CommonJS with a default export.
 */
export function slotConnector(target: SlotTarget): NonNullable<RedisOptions['Connector']> {
  class SlotConnector {
    firstError?: Error;
    connecting = false;
    stream?: net.Socket;
    /** The seed that answered last: asked first next time (a dead first seed costs one ask per round, not per connect). */
    private goodSeed = 0;
    private wake?: () => void;
    constructor(private readonly options: { disconnectTimeout?: number }) {}

    /** INFO at the ready check: a node that is no longer a master (a failover in progress) is dropped and the slot map asked again. */
    check(info: { role?: string }): boolean {
      return !info.role || info.role === 'master';
    }

    disconnect(): void {
      this.connecting = false;
      this.wake?.();
      const stream = this.stream;
      if (!stream) return;
      const timer = setTimeout(() => stream.destroy(), this.options.disconnectTimeout ?? 2000);
      stream.on('close', () => clearTimeout(timer));
      stream.end();
    }

    async connect(emit: (type: string, err: Error) => void): Promise<net.Socket> {
      this.connecting = true;
      for (let round = 1; ; round++) {
        let found: { seed: number; owner?: SeedAddress } | undefined;
        let failure: Error | undefined;
        try {
          found = await askSeeds(target.seeds, target, target.askTimeoutMs, target.slot, this.goodSeed, () => this.connecting);
        } catch (err) {
          failure = err as Error;
        }
        if (!this.connecting) throw new Error(CONNECTION_CLOSED);
        if (found) {
          this.goodSeed = found.seed;
          const { host, port } = found.owner!;
          const stream = net.createConnection({ host, port });
          stream.once('error', (err) => (this.firstError = err));
          this.stream = stream;
          return stream;
        }
        const delay = target.retryDelay(round);
        if (delay === null) throw failure!;
        emit('error', new Error(`${failure!.message}; asking again in ${delay}ms`));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
        if (!this.connecting) throw new Error(CONNECTION_CLOSED);
      }
    }
  }
  return SlotConnector as unknown as NonNullable<RedisOptions['Connector']>;
}
