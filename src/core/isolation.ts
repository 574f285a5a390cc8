// Isolation of suspected poison pills inside one worker process: a job the reaper marked
// `verk_recovered` (recovered repeatedly from workers that died while running it) runs only
// when nothing else runs in its process, and no new job is fetched meanwhile. If it kills the
// process again, it dies alone: its recovery count rises and its former neighbours' do not.
import { sleep } from '../util/sleep.js';

export class IsolationGate {
  private chain: Promise<void> = Promise.resolve();
  private suspects = 0;

  /** @param busy jobs running in the whole process (all queues), suspects included */
  constructor(private readonly busy: () => number) {}

  /** True while a suspect waits or runs: fetch loops must not take new jobs. */
  get closed(): boolean {
    return this.suspects > 0;
  }

  /** Runs `fn` once every other job of the process has finished, one suspect at a time. */
  async runAlone<T>(fn: () => Promise<T>): Promise<T> {
    this.suspects++;
    const previous = this.chain;
    let done!: () => void;
    this.chain = new Promise<void>((r) => (done = r));
    try {
      await previous;
      while (this.busy() - this.suspects > 0) await sleep(10);
      return await fn();
    } finally {
      this.suspects--;
      done();
    }
  }
}
