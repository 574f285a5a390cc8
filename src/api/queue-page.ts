// One page of a queue's jobs for the web dashboard, in fetch order (position 0 = the next job
// to be fetched, at the list's right end): one LRANGE of that page's range, however long the
// queue is. Entries are described as `verk queue list` describes them (listQueueEntries).
import type { AdminContext } from './admin-context.js';
import { describeQueueEntry, type QueueEntry } from './queue-entries.js';

export async function queuePage(ctx: AdminContext, queue: string, offset: number, limit: number): Promise<{ size: number; entries: QueueEntry[] }> {
  const key = ctx.keys.queue(queue);
  const [size, page] = await Promise.all([ctx.redis.llen(key), ctx.redis.lrangeBuffer(key, -(offset + limit), -(offset + 1))]);
  // LRANGE clamps a start before the list's head: the page then holds fewer than `limit`.
  const entries = page.reverse().map((buf, i) => describeQueueEntry(buf, offset + i));
  return { size, entries: offset >= size ? [] : entries };
}
