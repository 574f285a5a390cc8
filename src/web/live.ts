// Live updates over server-sent events: ONE poll of Redis per web server (liveSnapshot, a
// pipeline of ten commands every webPollInterval) while at least one tab listens, its result
// encoded once and written to every open stream. With no tab listening a round reads nothing
// (tabs close their stream while hidden: public/verk-web.js). tick() is one round, for tests.
import type { ServerResponse } from 'node:http';
import type { AdminContext } from '../api/admin-context.js';
import { liveSnapshot, type LiveSnapshot } from '../api/live-snapshot.js';
import type { Logger } from '../util/logger.js';
import { Ticker } from '../util/ticker.js';

/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;
/**
 * A stream with more than this written but not yet taken by its client (it stopped reading: a
 * stuck proxy, a peer that never reads) is closed: frames would pile up in memory for ever. The
 * tab's EventSource reconnects by itself once it reads again.
 */
export const MAX_UNSENT_BYTES = 256 * 1024;

export class LiveHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly ticker: Ticker;
  private keepalive: NodeJS.Timeout | undefined;
  /** The last snapshot sent (a new tab gets it at once). */
  last: LiveSnapshot | undefined;
  /** Polls done so far (tests and the docs' measurement read it). */
  polls = 0;
  /** The poll is failing (Redis unreachable): logged once when it starts and once when it ends. */
  private failing = false;

  constructor(
    private readonly admin: AdminContext,
    intervalMs: number,
    private readonly log?: Logger,
    private readonly maxUnsentBytes = MAX_UNSENT_BYTES,
  ) {
    this.ticker = new Ticker(() => this.tick(), {
      intervalMs,
      onError: (err) => {
        if (!this.failing) this.log?.warn('web: live poll failed; retrying every interval, quiet until it works again', { error: (err as Error).message });
        this.failing = true;
      },
    });
  }

  get listeners(): number {
    return this.clients.size;
  }

  /** Adds an SSE stream; it is removed when its connection closes. */
  subscribe(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.write('retry: 5000\n\n');
    if (this.last) res.write(frame(this.last));
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    if (!this.keepalive) {
      this.ticker.start();
      this.keepalive = setInterval(() => {
        for (const c of this.clients) this.send(c, ': keepalive\n\n');
      }, KEEPALIVE_MS);
      this.keepalive.unref();
    }
  }

  /** One round: a poll written to every stream, or nothing when no stream is open. */
  async tick(): Promise<LiveSnapshot | undefined> {
    if (this.clients.size === 0) return undefined;
    const snap = await liveSnapshot(this.admin);
    if (this.failing) this.log?.info('web: live poll works again');
    this.failing = false;
    this.polls++;
    this.last = snap;
    const text = frame(snap);
    for (const c of this.clients) this.send(c, text);
    return snap;
  }

  /** Writes to one stream, or closes it when its client has stopped taking what it is sent. */
  private send(c: ServerResponse, text: string): void {
    if (c.writableLength > this.maxUnsentBytes) {
      this.clients.delete(c);
      c.destroy();
      return;
    }
    c.write(text);
  }

  /** Ends every stream and the poll. */
  async close(): Promise<void> {
    for (const c of this.clients) c.end();
    this.clients.clear();
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = undefined;
    await this.ticker.stop();
  }
}

function frame(s: LiveSnapshot): string {
  return `data: ${JSON.stringify(s)}\n\n`;
}
