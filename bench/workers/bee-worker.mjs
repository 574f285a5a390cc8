// Bee-Queue worker child process for the bench, with the settings its README recommends for a
// worker that needs no events: getEvents/sendEvents/storeJobs off, removeOnSuccess on, no
// delayed-job activation; checkStalledJobs every 5 s (its reliability feature, which the user
// must start). Counts 'succeeded' events (emitted after the job's result is written).
import Queue from 'bee-queue';
import { handle } from './probe.mjs';
import { serveBench, benchEnv } from './peer-ipc.mjs';

const env = benchEnv();
let completed = 0;
const queue = new Queue(env.queue, {
  redis: { host: env.host, port: env.port },
  isWorker: true,
  getEvents: false,
  sendEvents: false,
  storeJobs: false,
  activateDelayedJobs: false,
  removeOnSuccess: true,
  removeOnFailure: false,
});
queue.on('succeeded', () => completed++);
queue.on('error', (err) => console.error('bee-queue worker error:', err.message));
queue.process(env.concurrency, async (job) => handle(job.data));
queue.checkStalledJobs(5000);

serveBench({ ready: () => queue.ready(), completed: () => completed, close: () => queue.close(5000) });
