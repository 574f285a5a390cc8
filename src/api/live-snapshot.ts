// The figures the web dashboard pushes to every open tab: one pipeline of nine constant-cost
// commands (no per-queue or per-node reads), so its cost does not grow with the fleet or with
// the number of tabs (one poll per web server, src/web/live.ts). `fleet` changes when a node
// registers or is reaped, or a recovery is recorded: the pages that list nodes reload on it, and when a late write is fenced.
import type { AdminContext } from './admin-context.js';

export interface LiveSnapshot {
  /** Redis's clock, epoch ms. */
  at: number;
  processed: number;
  failed: number;
  retry: number;
  schedule: number;
  dead: number;
  /** Registered verk nodes (verk_nodes), alive or not yet reaped. */
  nodes: number;
  /** Members of Sidekiq's `processes` set (dead ones are pruned by the pages that list them). */
  processes: number;
  paused: number;
  /** Writes refused because the node no longer held the job (verk:stat:fenced). */
  fenced: number;
  /** Changes when a node joins or is reaped, a recovery is recorded or a write is fenced. */
  fleet: string;
}

export async function liveSnapshot(ctx: AdminContext): Promise<LiveSnapshot> {
  const { redis, keys } = ctx;
  const res = await redis
    .pipeline()
    .time()
    .mget(keys.processed(), keys.failed(), keys.fenced)
    .zcard(keys.retry)
    .zcard(keys.schedule)
    .zcard(keys.dead)
    .scard(keys.nodes)
    .scard(keys.processes)
    .scard(keys.paused)
    .lindex(keys.recoveries, 0)
    .exec();
  if (!res) throw new Error('live snapshot: pipeline aborted');
  const err = res.find(([e]) => e)?.[0];
  if (err) throw err;
  const v = res.map(([, r]) => r);
  const [s, us] = v[0] as [string, string];
  const [processed, failed, fenced] = v[1] as (string | null)[];
  const newest = (v[8] as string | null) ?? '';
  return {
    at: Number(s) * 1000 + Math.floor(Number(us) / 1000),
    processed: int(processed),
    failed: int(failed),
    retry: v[2] as number,
    schedule: v[3] as number,
    dead: v[4] as number,
    nodes: v[5] as number,
    processes: v[6] as number,
    paused: v[7] as number,
    fenced: int(fenced),
    fleet: `${v[5]}:${int(fenced)}:${newest.length}:${hash(newest)}`,
  };
}

function int(v: string | null): number {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** A short, stable digest of a string (FNV-1a), so the snapshot does not carry the event itself. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}
