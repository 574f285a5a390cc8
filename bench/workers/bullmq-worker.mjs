// BullMQ worker child process for the bench, with BullMQ's documented production settings:
// a dedicated connection with maxRetriesPerRequest: null, removeOnComplete { count: 1000 },
// removeOnFail { count: 5000 } (docs.bullmq.io "Auto-removal of jobs"); stalled checks and lock
// renewal stay on (its reliability features, as verk keeps its own). Counts 'completed' events.
import { Worker } from 'bullmq';
import { handle } from './probe.mjs';
import { serveBench, benchEnv } from './peer-ipc.mjs';

const env = benchEnv();
let completed = 0;
const worker = new Worker(env.queue, async (job) => handle(job.data), {
  connection: { host: env.host, port: env.port, maxRetriesPerRequest: null },
  concurrency: env.concurrency,
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
});
worker.on('completed', () => completed++);
worker.on('error', (err) => console.error('bullmq worker error:', err.message));

serveBench({ ready: () => worker.waitUntilReady(), completed: () => completed, close: () => worker.close() });
