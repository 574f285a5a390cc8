// Sidekiq's process registry as admin commands see it: the `processes` set and each identity's
// hash (verk supervisors write it too, src/runner/sidekiq-registry.ts), and remote control the
// way Sidekiq::Process#quiet!/#stop! do it: LPUSH TSTP or TERM to `<identity>-signals` (TTL 60 s);
// the process RPOPs one signal per beat. A verk node id is accepted for its supervisor's identity.
// Reading the set prunes dead entries as Sidekiq's ProcessSet#cleanup does (see pruneDead).
import { redisNow, type AdminContext } from './admin-context.js';
import { EXIT, VerkError } from '../util/errors.js';

/** A process whose beat is older than this, and whose hash has no TTL left to run out, is dead. */
export const PROCESS_DEAD_AFTER_S = 60;

export interface ProcessInfo {
  identity: string;
  hostname: string | null;
  pid: number | null;
  started_at: number | null;
  concurrency: number | null;
  queues: string[];
  labels: string[];
  busy: number;
  beat: number | null;
  quiet: boolean;
}

export type RemoteSignal = 'TSTP' | 'TERM';

/**
 * Live processes of the `processes` set, sorted by identity. Dead entries are removed from the
 * set on the way (pruneDead): a process killed with -9 never SREMs itself.
 */
export async function listProcesses(ctx: AdminContext): Promise<ProcessInfo[]> {
  const ids = (await ctx.redis.smembers(ctx.keys.processes)).sort();
  const now = await redisNow(ctx.redis);
  const dead: string[] = [];
  const rows = await Promise.all(
    ids.map(async (identity) => {
      const [info, busy, beat, quiet] = await ctx.redis.hmget(ctx.keys.process(identity), 'info', 'busy', 'beat', 'quiet');
      if (!info || (beat && now - Number(beat) > PROCESS_DEAD_AFTER_S && (await ctx.redis.pttl(ctx.keys.process(identity))) === -1)) {
        dead.push(identity);
        return undefined;
      }
      let i: Record<string, unknown> = {};
      try {
        i = JSON.parse(info) as Record<string, unknown>;
      } catch {
        /* keep the defaults */
      }
      return {
        identity,
        hostname: typeof i.hostname === 'string' ? i.hostname : null,
        pid: typeof i.pid === 'number' ? i.pid : null,
        started_at: typeof i.started_at === 'number' ? i.started_at : null,
        concurrency: typeof i.concurrency === 'number' ? i.concurrency : null,
        queues: Array.isArray(i.queues) ? i.queues.map(String) : [],
        labels: Array.isArray(i.labels) ? i.labels.map(String) : [],
        busy: Number(busy ?? 0) || 0,
        beat: beat ? Number(beat) : null,
        quiet: quiet === 'true',
      } satisfies ProcessInfo;
    }),
  );
  await pruneDead(ctx, dead);
  return rows.filter((r): r is ProcessInfo => r !== undefined);
}

/**
 * Sidekiq's ProcessSet#cleanup: SREM identities whose hash has expired (its 60 s TTL ran out:
 * the process stopped beating), and ones whose beat is older than 60 s while their hash has no
 * TTL (written without one, so it would never expire). A hash that still has a TTL is trusted
 * over its beat: the TTL runs on Redis's clock, the beat on the writer's, which may be skewed.
 * Safe against a live process: it SADDs itself again at every beat. Unlike Sidekiq we do not
 * take the `process_cleanup` once-a-minute lock: an operator's command should see the truth now.
 */
async function pruneDead(ctx: AdminContext, identities: string[]): Promise<void> {
  if (identities.length) await ctx.redis.srem(ctx.keys.processes, ...identities);
}

export class UnknownProcessError extends VerkError {
  constructor(message: string) {
    super(message, EXIT.runtime, 'UnknownProcessError');
  }
}

/** The live processes named by `target` (an identity or a verk node id), or all of them. */
export async function resolveProcesses(ctx: AdminContext, target: string | undefined): Promise<ProcessInfo[]> {
  const all = await listProcesses(ctx);
  if (target === undefined) return all;
  const direct = all.find((p) => p.identity === target);
  if (direct) return [direct];
  const viaNode = await ctx.redis.hget(ctx.keys.nodeInfo(target), 'identity');
  const owner = viaNode ? all.find((p) => p.identity === viaNode) : undefined;
  if (owner) return [owner];
  const known = all.map((p) => p.identity).join(', ') || 'none';
  throw new UnknownProcessError(`no live process or verk node named ${JSON.stringify(target)} (live processes: ${known}; see \`verk processes\`)`);
}

export async function signalProcesses(ctx: AdminContext, identities: string[], signal: RemoteSignal): Promise<void> {
  const m = ctx.redis.multi();
  for (const id of identities) m.lpush(ctx.keys.processSignals(id), signal).expire(ctx.keys.processSignals(id), 60);
  await m.exec();
}
