// Bee-Queue adapter: producer (createJob().save() / saveAll) with the producer settings its
// README recommends (no events, no stored jobs) and a worker child (workers/bee-worker.mjs).
import Queue from 'bee-queue';
import { startPeerWorker } from './peer-worker.mjs';

const QUEUE = 'bench';

export default {
  name: 'Bee-Queue',
  key: 'bee',
  producer(redis) {
    const q = new Queue(QUEUE, {
      redis: { host: redis.host, port: redis.port },
      isWorker: false,
      getEvents: false,
      sendEvents: false,
      storeJobs: false,
      activateDelayedJobs: false,
    });
    return {
      enqueue: (data) => q.createJob(data ?? {}).save(),
      bulk: async (datas) => {
        const errors = await q.saveAll(datas.map((d) => q.createJob(d ?? {})));
        if (errors.size) throw [...errors.values()][0];
      },
      close: () => q.close(),
    };
  },
  startWorker(redis, opts) {
    return startPeerWorker('bee-worker.mjs', redis, { ...opts, queue: QUEUE });
  },
};
