// Enqueue throughput from the bench process (no worker running): single jobs with sequential
// awaits, single jobs all in flight at once (Promise.all), and bulk calls of 1 000 jobs
// (verk enqueueBulk / BullMQ addBulk / Bee-Queue saveAll), and for verk unique jobs with sequential
// awaits (each its own key: the lock is taken by the enqueue script). A short warm-up precedes each.
import { nowMs, round } from '../lib/stats.mjs';

const CHUNK = 1000;

async function timed(fn, n) {
  const t0 = nowMs();
  await fn();
  return round((n / (nowMs() - t0)) * 1000);
}

export async function enqueueRun(sys, redis, { sequential, concurrent, bulk }) {
  const producer = sys.producer(redis);
  try {
    await redis.admin.flushall();
    for (let i = 0; i < 200; i++) await producer.enqueue();
    await producer.bulk(new Array(CHUNK).fill(undefined));
    await redis.admin.flushall();
    const seq = await timed(async () => {
      for (let i = 0; i < sequential; i++) await producer.enqueue();
    }, sequential);
    await redis.admin.flushall();
    const conc = await timed(() => Promise.all(Array.from({ length: concurrent }, () => producer.enqueue())), concurrent);
    await redis.admin.flushall();
    const blk = await timed(async () => {
      for (let i = 0; i < bulk; i += CHUNK) await producer.bulk(new Array(Math.min(CHUNK, bulk - i)).fill(undefined));
    }, bulk);
    await redis.admin.flushall();
    // verk only: unique jobs, each its own key (one script call takes the lock and pushes).
    let uniqueSeq;
    if (producer.enqueueUnique) {
      for (let i = 0; i < 200; i++) await producer.enqueueUnique(`warm:${i}`);
      await redis.admin.flushall();
      uniqueSeq = await timed(async () => {
        for (let i = 0; i < sequential; i++) await producer.enqueueUnique(`k:${i}`);
      }, sequential);
      await redis.admin.flushall();
    }
    return { sequentialPerSec: seq, concurrentPerSec: conc, bulkPerSec: blk, uniqueSequentialPerSec: uniqueSeq };
  } finally {
    await producer.close();
  }
}
