// The one factory of the supervisor's duties: builds every periodic duty from the resolved
// config. Adding a duty = one file implementing Duty (src/core/duties/duty.ts) + one line here.
import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Duty, DutyReport } from '../core/duties/duty.js';
import { Heartbeat, type BeatingNode, type HeartbeatEvents } from '../core/duties/heartbeat.js';
import { Reaper } from '../core/duties/reaper.js';
import { Scheduler } from '../core/duties/scheduler.js';
import { CronDuty } from '../core/duties/cron.js';
import { UniqueSweeper } from '../core/duties/unique-sweeper.js';
import { LimitAudit } from '../core/duties/limit-audit.js';
import type { Scripts } from '../redis/scripts.js';
import type { Logger } from '../util/logger.js';
import { SidekiqRegistry, type RegistryHost } from './sidekiq-registry.js';
import { PoolWatch, type ProcessPool } from './worker-pool.js';

export interface DutyDeps {
  config: Config;
  log: Logger;
  scripts: Scripts;
  redis: Redis;
  pool: ProcessPool;
  /** Id written into the recovery history as the reaper. */
  reaperId: string;
  beating: () => BeatingNode[];
  heartbeatEvents: HeartbeatEvents;
  sidekiqHost: RegistryHost;
}

export interface Duties {
  heartbeat: Heartbeat;
  poolWatch: PoolWatch;
  reaper: Reaper;
  scheduler: Scheduler;
  sidekiq: SidekiqRegistry;
  /** Periodic jobs (runs only when the config declares some). */
  cron: CronDuty;
  /** Releases unique locks whose job exists nowhere. */
  uniqueSweeper: UniqueSweeper;
  /** The limits' audit (runs only when the config declares limits). */
  limitAudit: LimitAudit;
  /** Everything the duty runner runs, in start order. */
  list: Duty[];
}

export function buildDuties(d: DutyDeps): Duties {
  const heartbeat = new Heartbeat(d.scripts, d.config, d.log, d.beating, d.heartbeatEvents);
  const poolWatch = new PoolWatch(d.pool, d.config, d.log);
  const reaper = new Reaper(d.scripts, d.config, d.log, d.reaperId);
  const scheduler = new Scheduler(d.scripts, d.config, d.log);
  const sidekiq = new SidekiqRegistry(d.sidekiqHost);
  const cron = new CronDuty(d.scripts, d.config, d.log, d.reaperId);
  const uniqueSweeper = new UniqueSweeper(d.scripts, d.config, d.log, d.reaperId);
  const list: Duty[] = [heartbeat, poolWatch, reaperDuty(reaper, d.config), scheduler, sidekiq, uniqueSweeper];
  if (Array.isArray(d.config.cron) && d.config.cron.length > 0) list.push(cron);
  const limits = Array.isArray(d.config.limits) ? d.config.limits : [];
  const limitAudit = new LimitAudit(d.scripts, limits, d.log);
  if (limits.length > 0) list.push(limitAudit);
  return { heartbeat, poolWatch, reaper, scheduler, sidekiq, cron, uniqueSweeper, limitAudit, list };
}

/** The reaper's pass as a duty: reports the nodes reaped and the jobs moved and buried. */
function reaperDuty(reaper: Reaper, config: Config): Duty {
  return {
    name: 'reaper',
    intervalMs: config.reaperInterval,
    jitter: 0.2,
    async tick(): Promise<DutyReport> {
      const out: DutyReport = { nodes: 0, moved: 0, buried: 0 };
      for (const r of await reaper.tick()) {
        out.nodes++;
        out.moved += r.moved;
        out.buried += r.buried;
      }
      return out;
    },
  };
}
