// Runs the supervisor's duties (src/core/duties/duty.ts), each on its own Ticker, and reports
// their errors in one place: a failing duty is logged at warn once per distinct error and once
// more when it works again, never once per tick; the last report and an error count per duty
// are kept for metrics and tests.
import type { Duty, DutyReport } from '../core/duties/duty.js';
import type { Logger } from '../util/logger.js';
import { Ticker } from '../util/ticker.js';

export class DutyRunner {
  private tickers: Ticker[] = [];
  readonly reports = new Map<string, DutyReport>();
  readonly errors = new Map<string, number>();
  private readonly failing = new Map<string, string>();

  constructor(
    private readonly log: Logger,
    private readonly onReport: (duty: string, r: DutyReport) => void = () => undefined,
  ) {}

  start(duties: Duty[]): void {
    for (const d of duties) {
      const t = new Ticker(() => this.run(d), { intervalMs: () => d.intervalMs, jitter: d.jitter, delayFirst: d.delayFirst });
      this.tickers.push(t);
      t.start();
    }
  }

  /** One tick of a duty with the runner's error reporting (what the tickers call). */
  async run(d: Duty): Promise<void> {
    try {
      const r = await d.tick();
      this.reports.set(d.name, r);
      this.onReport(d.name, r);
      const was = this.failing.get(d.name);
      if (was !== undefined) {
        this.failing.delete(d.name);
        this.log.info(`${d.name} works again`, { error_was: was });
      }
    } catch (err) {
      this.errors.set(d.name, (this.errors.get(d.name) ?? 0) + 1);
      const msg = (err as Error)?.message ?? String(err);
      if (this.failing.get(d.name) !== msg) {
        this.failing.set(d.name, msg);
        this.log.warn(`${d.name} failed; retrying every interval`, { error: msg });
      }
    }
  }

  /** Stops every ticker and waits for the ticks in flight. */
  async stop(): Promise<void> {
    const tickers = this.tickers;
    this.tickers = [];
    await Promise.all(tickers.map((t) => t.stop()));
  }
}
