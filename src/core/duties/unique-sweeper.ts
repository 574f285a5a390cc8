// Unique-lock sweeper duty (docs/unique-jobs.md): one bounded pass of lua/unique-sweep-2.lua per
// uniqueSweepInterval on every supervisor. The script decides everything atomically (it never
// releases a lock whose owner is in a queue, a node's in-progress or claim list, schedule or
// retry; a search past its budget keeps the lock), so supervisors racing each other are safe.
// Every release is logged, counted (released, for /metrics) and recorded in verk:uniques:released.
import type { Config } from '../../config/schema.js';
import type { Scripts } from '../../redis/scripts.js';
import type { Logger } from '../../util/logger.js';
import type { Duty, DutyReport } from './duty.js';

export class UniqueSweeper implements Duty {
  readonly name = 'unique-sweeper';
  readonly jitter = 0.2;
  readonly delayFirst = true;
  /** Locks released by this supervisor's sweeps since it started. */
  released = 0;

  constructor(
    private readonly scripts: Scripts,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly by: string,
  ) {}

  get intervalMs(): number {
    return this.config.uniqueSweepInterval;
  }

  async tick(): Promise<DutyReport> {
    const r = await this.scripts.uniqueSweep(this.config.uniqueSweepGrace, this.by);
    for (const l of r.released) this.log.warn('released a unique lock whose job exists nowhere', { key: l.key, jid: l.jid });
    this.released += r.released.length;
    return r.looked ? { looked: r.looked, released: r.released.length, cleaned: r.cleaned } : {};
  }
}
