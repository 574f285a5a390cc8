// How recovered jobs start inside one worker process. Every job the reaper requeued carries
// `verk_recovered` ("marked"): marked jobs start strictly one after another (inTurn: the start
// record is written, then perform is invoked, then the next marked job's turn), so a job that
// kills its process synchronously leaves no start record for the marked jobs behind it.
// Suspected poison pills (recovered repeatedly) also run only when nothing else runs in their
// process, and no new job is fetched meanwhile (runAlone): if one kills the process again, it
// dies alone and its former neighbours are not counted.
import { sleep } from '../util/sleep.js';

/** Runs the functions given to it one after another, in call order. */
function serial(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

export class IsolationGate {
  private readonly alone = serial();
  private suspects = 0;
  /**
   * Runs `fn` after every earlier inTurn `fn` of the process has settled (in call order). `fn`
   * should settle as soon as the job's perform has been invoked, not when the job ends.
   */
  readonly inTurn = serial();

  /** @param busy jobs running in the whole process (all queues), suspects included */
  constructor(private readonly busy: () => number) {}

  /** True while a suspect waits or runs: fetch loops must not take new jobs. */
  get closed(): boolean {
    return this.suspects > 0;
  }

  /** Runs `fn` once every other job of the process has finished, one suspect at a time. */
  async runAlone<T>(fn: () => Promise<T>): Promise<T> {
    this.suspects++;
    try {
      return await this.alone(async () => {
        while (this.busy() - this.suspects > 0) await sleep(10);
        return fn();
      });
    } finally {
      this.suspects--;
    }
  }
}
