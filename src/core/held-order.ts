// The order of one queue's in-progress list of this node as the worker filled it: the tail (the
// oldest fetch) first. It gives each held job the position from the tail where the worker expects
// it, the hint that lets an ack read one element instead of scanning the list (lua/ack-6.lua).
// Only a hint: the scripts check the element they read (its bytes, or its length, marker and
// SHA-1), so a position gone wrong (a fetch whose reply was lost, equal payloads removed in another
// order, a reaped node) costs a fallback, never a wrong ack. Fetches push at the head, so jobs
// fetched meanwhile, seen or not, never move the positions counted from the tail.
export class HeldOrder<T> {
  /** Tail first; entries no longer in `live` are skipped and compacted away now and then. */
  private order: T[] = [];
  private readonly live = new Set<T>();

  get size(): number {
    return this.live.size;
  }

  /** Jobs just fetched, in the order the script pushed them (each one nearer the head). */
  add(x: T): void {
    if (this.live.has(x)) return;
    this.order.push(x);
    this.live.add(x);
  }

  /**
   * Removes `xs` and returns each one's position from the tail (1 = the tail) before any of them
   * was removed; a job not held here is absent from the map.
   */
  take(xs: readonly T[]): Map<T, number> {
    const wanted = new Set(xs.filter((x) => this.live.has(x)));
    const at = new Map<T, number>();
    if (wanted.size === 0) return at;
    let pos = 0;
    for (const x of this.order) {
      if (!this.live.has(x)) continue;
      pos++;
      if (wanted.has(x)) {
        at.set(x, pos);
        if (at.size === wanted.size) break;
      }
    }
    this.drop(wanted);
    return at;
  }

  /** Forgets jobs that left the list another way (handed back). */
  drop(xs: Iterable<T>): void {
    for (const x of xs) this.live.delete(x);
    if (this.order.length > 64 && this.order.length > 2 * this.live.size) this.order = this.order.filter((x) => this.live.has(x));
  }
}
