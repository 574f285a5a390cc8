// An example job handler. The file path is the job class: this file runs jobs of class "Example".
// Try it: npx verk enqueue Example '"world"'
import type { JobContext } from 'verk-ts';

export const options = {
  queue: 'default',
  retry: 5, // retries before the job goes to the dead set (true = 25, false = drop on failure)
  timeout: '30s', // ctx.signal aborts after this; the job then fails with a TimeoutError
};

export async function perform(args: unknown[], ctx: JobContext): Promise<void> {
  const [name = 'world'] = args as [string?];
  ctx.log.info('hello from Example', { name, retry_count: ctx.retryCount });
  // Long work should watch ctx.signal: it aborts on timeout, shutdown hand-back or lost lease.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, 100);
    ctx.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      },
      { once: true },
    );
  });
}
