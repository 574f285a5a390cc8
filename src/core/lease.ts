// A worker node's lease as its worker process knows it: the supervisor renews the node's heartbeat
// key and, after each renewal it sent, tells the process until when (on the machine's monotonic
// clock) the key cannot have expired (the supervisor's fence point, src/core/duties/heartbeat.ts).
// A job's handler starts only before that point: a process thawed after a freeze past its TTL has
// replies in its socket that it read before the supervisor's fence message (jobs an ack fetched
// while the lease held, since handed back to the queue by a reaper and run elsewhere); it must not
// start them (docs/reliability.md, "Fencing").
import { systemMonotonicMs } from '../util/clock.js';

export class NodeLease {
  /** System monotonic ms; undefined = not told yet (then nothing is held back). */
  private until: number | undefined;

  /** A renewal's fence point (later renewals only extend it). */
  renewedUntil(until: number): void {
    if (this.until === undefined || until > this.until) this.until = until;
  }

  /** True while the node's heartbeat key is certainly alive (or no lease was ever told). */
  held(now = systemMonotonicMs()): boolean {
    return this.until === undefined || now < this.until;
  }
}
