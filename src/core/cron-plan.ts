// Which ticks of one periodic entry are due and what to ask the tick script for each (pure; the
// cron duty calls it with Redis's clock). Due = the entry's ticks after its watermark (last
// decided tick) up to now. A tick within `grace` of now is on time and fired; older ones are
// late (no node fired them in time: an outage) and catchUp decides (docs/cron.md):
//   skip    every late tick is recorded missed, none runs;
//   latest  the newest late tick runs, the older ones are recorded missed;
//   all     the newest catchUpMax late ticks run (oldest first), older ones are recorded missed.
// Missed ticks are one 'miss' call for the whole run of them (count capped at maxTicks).
import type { CronEntry } from '../config/cron.js';
import { ticksBefore, ticksBetween } from '../job/cron-schedule.js';

export type CronAction = { mode: 'fire'; tickMs: number } | { mode: 'miss'; tickMs: number; fromMs: number; count: number; more: boolean };

export function planTicks(
  entry: Pick<CronEntry, 'schedule' | 'tz' | 'catchUp' | 'catchUpMax' | 'grace'>,
  watermarkMs: number,
  nowMs: number,
  maxTicks: number,
): CronAction[] {
  const lateUntil = nowMs - entry.grace;
  const onTime = ticksBetween(entry, Math.max(watermarkMs, lateUntil), nowMs, maxTicks);
  const actions: CronAction[] = [];
  if (watermarkMs < lateUntil) {
    const keep = entry.catchUp === 'skip' ? 0 : entry.catchUp === 'latest' ? 1 : entry.catchUpMax;
    // The newest late ticks, newest first: `keep` of them run, the one after them (if any) is the newest missed.
    const newest = ticksBefore(entry, lateUntil, watermarkMs, keep + 1);
    const run = newest.slice(0, keep).reverse();
    const missedNewest = newest[keep];
    if (missedNewest !== undefined) {
      const missed = ticksBetween(entry, watermarkMs, missedNewest, maxTicks);
      actions.push({
        mode: 'miss',
        tickMs: missedNewest,
        fromMs: missed[0] ?? missedNewest,
        count: Math.max(1, missed.length),
        more: missed.length >= maxTicks && missed[missed.length - 1] !== missedNewest,
      });
    }
    for (const t of run) actions.push({ mode: 'fire', tickMs: t });
  }
  for (const t of onTime) actions.push({ mode: 'fire', tickMs: t });
  return actions;
}
