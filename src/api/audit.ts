// The web dashboard's audit list verk:web:audit: one JSON line per action (who, role, what, on
// what, the outcome), newest first, LPUSH + LTRIM in one MULTI so it never grows past `keep`.
// Never holds a credential: callers pass the user name (basic auth) or the word "token".
import type { AdminContext } from './admin-context.js';

export interface AuditEntry {
  /** ISO 8601, the web server's clock. */
  at: string;
  /** The basic-auth user, "token", "anonymous" (no auth configured, loopback), or "unknown" (a failed sign-in). */
  who: string;
  /** 'none' for a failed sign-in. */
  role: 'operator' | 'read' | 'none';
  /** The client address as the server saw it. */
  ip: string;
  /** e.g. "queue.pause", "dead.retry", "process.quiet". */
  action: string;
  target: string;
  /** What happened, in a few words ("paused", "2 of 2 moved", "refused: read-only"). */
  result: string;
}

export async function appendAudit(ctx: AdminContext, entry: AuditEntry, keep: number): Promise<void> {
  await ctx.redis
    .multi()
    .lpush(ctx.keys.webAudit, JSON.stringify(entry))
    .ltrim(ctx.keys.webAudit, 0, Math.max(0, keep - 1))
    .exec();
}

export async function listAudit(ctx: AdminContext, limit: number): Promise<{ total: number; entries: AuditEntry[] }> {
  const [total, raws] = await Promise.all([ctx.redis.llen(ctx.keys.webAudit), ctx.redis.lrange(ctx.keys.webAudit, 0, limit - 1)]);
  const entries: AuditEntry[] = [];
  for (const raw of raws) {
    try {
      const v = JSON.parse(raw) as AuditEntry;
      if (v && typeof v === 'object') entries.push(v);
    } catch {
      /* an entry written by something else: skipped */
    }
  }
  return { total, entries };
}
