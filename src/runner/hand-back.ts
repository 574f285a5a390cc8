// Handing back the jobs of a worker process that exited: the supervisor reaps its node at once
// (forced: its process is gone), counting recoveries only for the jobs it last reported as
// started. Retried with backoff for up to nodeTtl (not while stopping: the exit watchdog ends the
// process soon); after that the node stays registered with no heartbeat, so the next reaper pass
// of any node recovers it (no reap script removes a job before it has written it back).
import type { Reaper } from '../core/duties/reaper.js';
import { monotonicMs } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { backoffMs, sleep } from '../util/sleep.js';
import type { PoolChild } from './worker-pool.js';

export interface HandBackDeps {
  reaper: Reaper;
  log: Logger;
  nodeTtl: number;
  /** True once the supervisor is stopping. */
  stopping: () => boolean;
}

/** Returns how many jobs went back to their queues (0 when the hand-back could not be done). */
export async function handBackExited(
  child: PoolChild,
  exit: { code: number | null; signal: NodeJS.Signals | null },
  how: { graceful: boolean; count: boolean },
  d: HandBackDeps,
): Promise<number> {
  const started = how.count ? child.running.map((r) => r.jid) : [];
  const deadline = monotonicMs() + d.nodeTtl;
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await d.reaper.reapNode(child.id, true, how.count, started);
      if (!how.graceful) {
        d.log.error('worker process exited; its jobs were handed back', {
          node: child.id,
          code: exit.code,
          signal: exit.signal,
          fenced: child.fenced || undefined,
          requeued: r.moved,
          dead: r.buried,
        });
      }
      return r.moved;
    } catch (err) {
      const error = (err as Error).message;
      if (d.stopping() || monotonicMs() > deadline) {
        d.log.error(
          'could not hand back the jobs of an exited worker process; its node stays registered without a heartbeat, so a reaper pass recovers them once the key expires',
          { node: child.id, error },
        );
        return 0;
      }
      if (attempt === 0) d.log.warn('hand-back of an exited worker process failed; retrying', { node: child.id, error });
      await sleep(backoffMs(attempt, 100, 2000));
    }
  }
}
