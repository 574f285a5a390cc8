// A cancellable loop around an async tick(): runs tick every interval (with optional jitter),
// never overlapping itself. Tests call tick() directly instead of waiting for the timer.

export interface TickerOptions {
  /** Fixed, or read again before each round (an interval that adapts, e.g. to the fleet's size). */
  intervalMs: number | (() => number);
  /** Fraction of the interval added or removed at random each round (0.2 = ±20%). */
  jitter?: number;
  /** Called when a tick throws; the loop keeps going. */
  onError?: (err: unknown) => void;
  /** Wait one interval before the first tick (default: tick at once). */
  delayFirst?: boolean;
}

export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private current: Promise<void> | undefined;

  constructor(
    private readonly tick: () => Promise<unknown>,
    private readonly opts: TickerOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(this.opts.delayFirst ? this.nextDelay() : 0);
  }

  /** Stops the loop and waits for a tick in flight. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.current;
  }

  private nextDelay(): number {
    const j = this.opts.jitter ?? 0;
    const factor = 1 + (Math.random() * 2 - 1) * j;
    const base = typeof this.opts.intervalMs === 'function' ? this.opts.intervalMs() : this.opts.intervalMs;
    return Math.max(1, Math.round(base * factor));
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      this.current = this.tick()
        .then(
          () => undefined,
          (err) => this.opts.onError?.(err),
        )
        .finally(() => {
          this.current = undefined;
          if (this.running) this.schedule(this.nextDelay());
        });
    }, delay);
  }
}
