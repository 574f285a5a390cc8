// Heartbeat duty, run by the supervisor for each live worker process: renews each node's TTL
// key (Redis's clock) only while the node is still registered. Reports a node whose renewal
// was refused (it was reaped) and nodes that could not be renewed for nodeTtl/2 (Redis lost).
import type { Config } from '../../config/schema.js';
import type { Scripts } from '../../redis/scripts.js';
import type { Logger } from '../../util/logger.js';

export interface BeatingNode {
  id: string;
  /** Metadata written to verk:node:<id>:info on every beat. */
  info(): Record<string, string | number>;
}

export interface HeartbeatEvents {
  onRefused(id: string): void;
  /** No renewal succeeded for nodeTtl/2: the nodes must stop their jobs (they may be reaped). */
  onStale(ids: string[]): void;
}

export class Heartbeat {
  private lastOk = new Map<string, number>();
  /** Nodes whose refusal was already logged (a fenced process may take a while to exit). */
  private refused = new Set<string>();

  constructor(
    private readonly scripts: Scripts,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly nodes: () => BeatingNode[],
    private readonly events: HeartbeatEvents,
  ) {}

  /** How long node metadata outlives a missed beat. */
  get infoTtl(): number {
    return Math.max(this.config.nodeTtl * 3, 60_000);
  }

  /** A node just registered counts as freshly renewed. */
  renewed(id: string, at = Date.now()): void {
    this.lastOk.set(id, at);
  }

  forget(id: string): void {
    this.lastOk.delete(id);
    this.refused.delete(id);
  }

  /** Age in ms of the oldest successful renewal among live nodes (for health checks). */
  oldestAge(now = Date.now()): number {
    let oldest = 0;
    for (const t of this.lastOk.values()) oldest = Math.max(oldest, now - t);
    return oldest;
  }

  async tick(): Promise<void> {
    const now = Date.now();
    const nodes = this.nodes();
    const stale = nodes.filter((n) => now - (this.lastOk.get(n.id) ?? now) >= this.config.nodeTtl / 2).map((n) => n.id);
    if (stale.length) this.events.onStale(stale);
    await Promise.all(nodes.map(async (n) => {
      try {
        const beat = this.scripts.heartbeat(n.id, this.config.nodeTtl, this.infoTtl, n.info());
        const ok = await withTimeout(beat, this.config.heartbeatInterval);
        if (ok) this.lastOk.set(n.id, Date.now());
        else {
          if (!this.refused.has(n.id)) this.log.error('heartbeat refused: the node was reaped; fencing it', { node: n.id });
          this.refused.add(n.id);
          this.events.onRefused(n.id);
        }
      } catch (err) {
        this.log.debug('heartbeat failed', { node: n.id, error: (err as Error).message });
      }
    }));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`no reply within ${ms}ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
