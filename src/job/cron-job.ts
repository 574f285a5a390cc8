// The job a periodic entry pushes, up to its jid: Sidekiq's shape and key order (as encodeNewJob
// writes it), so lua/cron-tick-8.lua only appends created_at, enqueued_at and the `cron` member
// ({"entry": name, "tick": epoch seconds}, or {"entry": name, "manual": true} for `verk cron run`).
import { newJid } from './jid.js';

export interface CronJobSpec {
  class: string;
  args: readonly unknown[];
  queue: string;
  retry: boolean | number;
}

/** `{"retry":…,"queue":…,"class":…,"args":[…],"jid":"…"` (no closing brace) and its jid. */
export function cronJobHead(spec: CronJobSpec, jid = newJid()): { head: string; jid: string } {
  const retry = spec.retry;
  const head = JSON.stringify({ retry, ...(typeof retry === 'number' ? { max_retry_count: retry } : {}), queue: spec.queue, class: spec.class }).slice(0, -1);
  return { head: `${head},"args":${JSON.stringify(spec.args)},"jid":${JSON.stringify(jid)}`, jid };
}
