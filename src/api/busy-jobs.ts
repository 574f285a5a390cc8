// The jobs running now in each `verk work` (or Sidekiq process), as Sidekiq's Busy page reads
// them: the `<identity>:workers` hash, one entry per running job ({queue, payload, run_at}, the
// payload a JSON string). One HGETALL per identity, pipelined. Args are the payload's own text.
import { rawMember } from '../job/raw-json.js';
import type { AdminContext } from './admin-context.js';

export interface BusyJob {
  identity: string;
  /** The hash field: verk writes the jid, Sidekiq a thread id. */
  tid: string;
  queue: string | null;
  jid: string | null;
  class: string | null;
  /** The exact JSON text of the arguments (verk's preview: at most ~4 KB). */
  args: string | null;
  /** Epoch seconds the job started. */
  run_at: number | null;
}

export async function busyJobs(ctx: AdminContext, identities: string[]): Promise<BusyJob[]> {
  if (identities.length === 0) return [];
  const pipe = ctx.redis.pipeline();
  for (const id of identities) pipe.hgetall(ctx.keys.processWorkers(id));
  const res = (await pipe.exec()) ?? [];
  const out: BusyJob[] = [];
  identities.forEach((identity, i) => {
    const hash = (res[i]?.[1] ?? {}) as Record<string, string>;
    for (const [tid, text] of Object.entries(hash)) out.push(parseWork(identity, tid, text));
  });
  return out.sort((a, b) => (a.run_at ?? 0) - (b.run_at ?? 0) || a.tid.localeCompare(b.tid));
}

function parseWork(identity: string, tid: string, text: string): BusyJob {
  const job: BusyJob = { identity, tid, queue: null, jid: null, class: null, args: null, run_at: null };
  let work: Record<string, unknown>;
  try {
    work = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return job;
  }
  if (!work || typeof work !== 'object') return job;
  job.queue = typeof work.queue === 'string' ? work.queue : null;
  job.run_at = typeof work.run_at === 'number' ? work.run_at : null;
  const payload = typeof work.payload === 'string' ? work.payload : typeof work.payload === 'object' ? JSON.stringify(work.payload) : null;
  if (payload) {
    try {
      const p = JSON.parse(payload) as Record<string, unknown>;
      job.jid = typeof p.jid === 'string' ? p.jid : null;
      job.class = typeof p.class === 'string' ? p.class : null;
      job.args = typeof p.args === 'string' ? p.args : (rawMember(payload, 'args') ?? null);
    } catch {
      job.args = payload;
    }
  }
  return job;
}
