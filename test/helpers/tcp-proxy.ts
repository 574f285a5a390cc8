// A TCP proxy between verk and a private redis-server that a test controls, to inject network
// faults: freeze (a stall: nothing moves, nothing is lost, all delivered on heal), stale
// (half-open: existing connections silently deliver nothing ever again, new ones work), reset
// (every connection destroyed with RST), latency, refuse (new connections refused) and heal; and
// retarget (new connections go to another server, open ones stay: a DNS name moved by a failover).
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** redis:// URL of the proxy (give it to verk as --redis-url). */
  readonly url: string;
  /** Connections accepted since start. */
  readonly accepted: number;
  /** Connections open now (stale ones included until their client closes them). */
  readonly open: number;
  /** Stop forwarding both ways on every connection, new ones included; keep them open. heal() delivers what waited. */
  freeze(): void;
  /** Existing connections silently stop delivering (both ways, forever); new connections work. */
  stale(): void;
  /** Destroys every connection (RST to the client). */
  reset(): void;
  /** Delays every chunk by `ms` in each direction (order kept). */
  latency(ms: number): void;
  /** New connections are refused (the listener closes); open ones go on. */
  refuse(): Promise<void>;
  /** New connections go to `port` from now on; open ones stay where they are (as after a DNS change). */
  retarget(port: number): void;
  /** Ends freeze, latency and refuse. Stale connections stay dead: a half-open socket never heals. */
  heal(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  stale: boolean;
  /** Per direction: when the last delayed chunk is delivered (keeps order under latency). */
  lastAt: { up: number; down: number };
}

export async function startProxy(target: { host?: string; port: number }, opts: { db?: number } = {}): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let frozen = false;
  let delayMs = 0;
  let refusing = false;
  let accepted = 0;
  /** What waits for the end of a freeze, in order. */
  let held: (() => void)[] = [];
  const host = target.host ?? '127.0.0.1';
  let upstreamPort = target.port;

  const later = (fn: () => void) => (frozen ? held.push(fn) : fn());

  const deliver = (p: Pair, dir: 'up' | 'down', chunk: Buffer) => {
    const to = dir === 'up' ? p.upstream : p.client;
    const write = () => {
      if (!p.stale && !to.destroyed) to.write(chunk);
    };
    if (p.stale) return;
    if (frozen) return held.push(write);
    if (delayMs <= 0 && p.lastAt[dir] <= Date.now()) return write();
    const at = Math.max(Date.now() + delayMs, p.lastAt[dir]);
    p.lastAt[dir] = at;
    setTimeout(() => later(write), at - Date.now());
  };

  const onConnection = (client: net.Socket) => {
    accepted++;
    const upstream = net.connect(upstreamPort, host);
    const p: Pair = { client, upstream, stale: false, lastAt: { up: 0, down: 0 } };
    pairs.add(p);
    client.on('data', (c: Buffer) => deliver(p, 'up', c));
    upstream.on('data', (c: Buffer) => deliver(p, 'down', c));
    // A close on one side reaches the other, unless the pair is stale (then nobody hears it).
    const closed = (other: net.Socket) => () => {
      if (p.stale) {
        client.destroy();
        upstream.destroy();
      } else later(() => other.end());
    };
    client.on('end', closed(upstream));
    upstream.on('end', closed(client));
    const gone = () => {
      if (client.destroyed && upstream.destroyed) pairs.delete(p);
    };
    for (const s of [client, upstream]) {
      s.on('error', () => (s === client ? upstream : client).destroy());
      s.on('close', gone);
    }
  };

  // A fresh listener after refuse(): a closed net.Server waits for its connections before it may listen again.
  let server: net.Server;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = net.createServer(onConnection);
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(0);

  return {
    port,
    url: `redis://127.0.0.1:${port}/${opts.db ?? 0}`,
    retarget(to: number) {
      upstreamPort = to;
    },
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    freeze() {
      frozen = true;
    },
    stale() {
      for (const p of pairs) p.stale = true;
    },
    reset() {
      for (const p of pairs) {
        p.client.resetAndDestroy();
        p.upstream.destroy();
      }
    },
    latency(ms: number) {
      delayMs = ms;
    },
    async refuse() {
      if (refusing) return;
      refusing = true;
      server.close();
    },
    async heal() {
      frozen = false;
      delayMs = 0;
      const waiting = held;
      held = [];
      waiting.forEach((fn) => fn());
      if (refusing) {
        refusing = false;
        await listen(port);
      }
    },
    async close() {
      frozen = false;
      held = [];
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      if (!refusing) await new Promise<void>((r) => server.close(() => r()));
      refusing = true;
      // Stale pairs are destroyed above too; nothing is left open.
    },
  };
}
