// BullMQ adapter: producer (Queue.add / addBulk) and a worker child (workers/bullmq-worker.mjs).
import { Queue } from 'bullmq';
import { startPeerWorker } from './peer-worker.mjs';

const QUEUE = 'bench';

export default {
  name: 'BullMQ',
  key: 'bullmq',
  producer(redis) {
    const q = new Queue(QUEUE, { connection: { host: redis.host, port: redis.port } });
    return {
      enqueue: (data) => q.add('noop', data ?? {}),
      bulk: (datas) => q.addBulk(datas.map((d) => ({ name: 'noop', data: d ?? {} }))),
      close: () => q.close(),
    };
  },
  startWorker(redis, opts) {
    return startPeerWorker('bullmq-worker.mjs', redis, { ...opts, queue: QUEUE });
  },
};
