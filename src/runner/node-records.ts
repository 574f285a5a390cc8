// What a supervisor writes about its own nodes: a fresh node id, its registration (verk_nodes, the
// heartbeat key, its metadata: lua/register-4.lua), the withdrawal of one that never ran, and the
// fleet's timeline (verk:events: joined, left, exited, fenced; lua/fleet-event-1.lua).
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { Reaper } from '../core/duties/reaper.js';
import type { FleetEventKind, Scripts } from '../redis/scripts.js';
import type { Logger } from '../util/logger.js';
import { VERSION } from '../version.js';

export interface NodeRecordsDeps {
  config: Config;
  scripts: Scripts;
  log: Logger;
  /** The supervisor's identity (host:pid:nonce), on every node it registers and every event. */
  identity: () => string;
  /** The TTL of a node's metadata hash (the heartbeat's). */
  infoTtl: () => number;
  reaper: () => Reaper;
}

export class NodeRecords {
  readonly host = os.hostname();
  /** Node ids start with this: the configured nodeId, else the host name. */
  readonly base: string;

  constructor(private readonly d: NodeRecordsDeps) {
    this.base = d.config.nodeId || this.host;
  }

  newId(): string {
    return this.d.config.fixedNodeId ? this.d.config.nodeId : `${this.base}-${randomBytes(4).toString('hex')}`;
  }

  /** Registers a node id (a new one, or a live one whose registration a failover lost). */
  async register(id: string): Promise<void> {
    const c = this.d.config;
    await this.d.scripts.register(id, c.nodeTtl, this.d.infoTtl(), {
      host: this.host,
      supervisor_pid: process.pid,
      started_at: Date.now() / 1000,
      version: VERSION,
      queues: c.queues.map((q) => `${q.name}:${q.concurrency}`).join(','),
      busy: 0,
      identity: this.d.identity(),
    });
  }

  /** Deregisters a node that never ran (a stop or a failed fork came between register and fork). */
  async withdraw(id: string): Promise<void> {
    await this.d
      .reaper()
      .reapNode(id, true, false)
      .catch((err) => this.d.log.warn('could not withdraw a registration; its key expires and a reaper removes it', { node: id, error: (err as Error).message }));
  }

  /** The fleet's timeline: observability only, so a failed write is logged at debug and dropped. */
  record(kind: FleetEventKind, node: string, detail: string): void {
    this.d.scripts
      .fleetEvent(kind, node, this.d.identity(), detail)
      .catch((err) => this.d.log.debug('could not record a fleet event', { kind, node, error: (err as Error).message }));
  }
}
