// An example job handler: `verk enqueue Example '"world"'` runs it.
import type { JobContext } from '../../src/index.js';

export const options = { retry: 5, timeout: '30s' };

export async function perform(args: unknown[], ctx: JobContext): Promise<void> {
  const [name = 'world'] = args;
  ctx.log.info(`hello, ${String(name)}`, { retry_count: ctx.retryCount });
}
