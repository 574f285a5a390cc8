// Heartbeat duty, run by the supervisor for each live worker process: renews each node's TTL
// key (Redis's clock) only while the node is still registered (docs/reliability.md, "Fencing").
// Each node's lease is watched on the monotonic clock from the moment its last *successful*
// renewal was sent: the key cannot expire before sentAt + nodeTtl, so the node is told to stop
// (fenced) only when that point is within `fenceMargin` — one slow or failed beat is not a fence.
// A node's metadata travels with a beat only when it changed (rss aside) or every
// FLEET.infoEvery beats: an idle node's beat is one renewal (docs/reliability.md, "Finding dead nodes").
import type { Config } from '../../config/schema.js';
import { FLEET } from '../../config/defaults.js';
import type { Scripts } from '../../redis/scripts.js';
import { monotonicMs } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { withTimeout } from '../../util/timeout.js';
import type { Duty, DutyReport } from './duty.js';

export interface BeatingNode {
  id: string;
  /** Metadata written to verk:node:<id>:info on every beat. */
  info(): Record<string, string | number>;
}

export interface HeartbeatEvents {
  /** The renewal was refused: the node is no longer registered (it was reaped). */
  onRefused(id: string): void;
  /** No renewal succeeded for nodeTtl - fenceMargin: the node must stop its jobs (it may be reaped). */
  onStale(ids: string[]): void;
  /** A renewal extended the node's lease: it is fenced `fenceInMs` from now unless renewed again. */
  onRenewed?(id: string, fenceInMs: number): void;
}

/** How long before the earliest possible expiry of its key a node is fenced. */
export function fenceMargin(config: Pick<Config, 'heartbeatInterval' | 'nodeTtl'>): number {
  return Math.min(config.heartbeatInterval, Math.floor(config.nodeTtl / 4));
}

interface Lease {
  /** Monotonic time the last successful renewal was sent. */
  sentAt: number;
  timer: NodeJS.Timeout;
}

export class Heartbeat implements Duty {
  readonly name = 'heartbeat';
  readonly jitter = 0;
  readonly delayFirst = true;
  private readonly leases = new Map<string, Lease>();
  /** Nodes whose refusal was already logged (a fenced process may take a while to exit). */
  private readonly refused = new Set<string>();
  /** The error of the current failure episode, logged once (at warn) until a beat succeeds. */
  private failing: string | undefined;
  /** Per node: the metadata last written (rss aside) and the beats since. */
  private readonly written = new Map<string, { key: string; beats: number }>();

  constructor(
    private readonly scripts: Scripts,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly nodes: () => BeatingNode[],
    private readonly events: HeartbeatEvents,
  ) {}

  get intervalMs(): number {
    return this.config.heartbeatInterval;
  }

  /** How long node metadata outlives a missed beat. */
  get infoTtl(): number {
    return Math.max(this.config.nodeTtl * 3, 60_000);
  }

  /** The lease limit: a node not renewed for this long is fenced. */
  get fenceAfter(): number {
    return this.config.nodeTtl - fenceMargin(this.config);
  }

  /** Monotonic time the last successful renewal or registration of any node was sent. */
  lastSuccessAt = monotonicMs();

  /** A node's registration (sent at `sentAt`, monotonic) counts as its first renewal. */
  renewed(id: string, sentAt = monotonicMs(), create = true): void {
    const old = this.leases.get(id);
    this.lastSuccessAt = Math.max(this.lastSuccessAt, sentAt);
    // A beat that comes back after its node was forgotten (its process exited) renews nothing.
    if (!old && !create) return;
    if (old && old.sentAt >= sentAt) return;
    if (old) clearTimeout(old.timer);
    const wait = Math.max(0, sentAt + this.fenceAfter - monotonicMs());
    const timer = setTimeout(() => this.expire(id), wait);
    timer.unref();
    this.leases.set(id, { sentAt, timer });
    this.events.onRenewed?.(id, wait);
  }

  /** Ms until the node is fenced unless renewed (undefined: no lease). */
  fenceInMs(id: string): number | undefined {
    const lease = this.leases.get(id);
    return lease && Math.max(0, lease.sentAt + this.fenceAfter - monotonicMs());
  }

  forget(id: string): void {
    const lease = this.leases.get(id);
    if (lease) clearTimeout(lease.timer);
    this.leases.delete(id);
    this.refused.delete(id);
    this.written.delete(id);
  }

  /** The metadata to send with this beat: all of it when it changed or is due, else none. */
  private infoToSend(id: string, info: Record<string, string | number>): { fields: Record<string, string | number>; key: string } {
    const { rss: _rss, ...rest } = info;
    const key = JSON.stringify(rest);
    const last = this.written.get(id);
    if (last && last.key === key && last.beats + 1 < FLEET.infoEvery) return { fields: {}, key };
    return { fields: info, key };
  }

  private wroteInfo(id: string, key: string, sent: boolean): void {
    const last = this.written.get(id);
    if (sent || !last) this.written.set(id, { key, beats: 0 });
    else last.beats++;
  }

  /** Age in ms of the oldest successful renewal among live nodes (for health checks). */
  oldestAge(now = monotonicMs()): number {
    let oldest = 0;
    for (const l of this.leases.values()) oldest = Math.max(oldest, now - l.sentAt);
    return oldest;
  }

  async tick(): Promise<DutyReport> {
    const report: DutyReport = { renewed: 0, refused: 0, failed: 0 };
    await Promise.all(
      this.nodes().map(async (n) => {
        const sentAt = monotonicMs();
        const info = this.infoToSend(n.id, n.info());
        try {
          const beat = this.scripts.heartbeat(n.id, this.config.nodeTtl, this.infoTtl, info.fields);
          // A slow reply still renews the lease from the time it was sent, so a beat may take as
          // long as the lease has left; the lease timer fences independently of it.
          const ok = await withTimeout(beat, this.fenceAfter);
          if (ok) {
            report.renewed++;
            this.renewed(n.id, sentAt, false);
            if (this.leases.has(n.id)) this.wroteInfo(n.id, info.key, Object.keys(info.fields).length > 0);
          } else {
            report.refused++;
            if (!this.refused.has(n.id)) this.log.error('heartbeat refused: the node was reaped; fencing it', { node: n.id });
            this.refused.add(n.id);
            this.events.onRefused(n.id);
          }
        } catch (err) {
          report.failed++;
          const msg = (err as Error).message;
          if (this.failing !== msg) {
            this.failing = msg;
            this.log.warn('heartbeat failed; retrying every interval (the node is fenced only if no beat succeeds before its lease may expire)', {
              node: n.id,
              error: msg,
              fence_after_ms: this.fenceAfter,
            });
          }
        }
      }),
    );
    if (report.renewed > 0 && report.failed === 0 && this.failing !== undefined) {
      this.log.info('heartbeat renewed again', { error_was: this.failing });
      this.failing = undefined;
    }
    return report;
  }

  private expire(id: string): void {
    const lease = this.leases.get(id);
    if (!lease) return;
    this.events.onStale([id]);
  }
}
