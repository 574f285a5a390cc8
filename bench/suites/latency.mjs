// Pickup latency on an idle queue: one worker (concurrency 10) waits on an empty queue; the bench
// enqueues one job at a time and the handler reports its start time over UDP; latency =
// handler start − moment before the enqueue call (same machine clock). 20 warm-up samples are
// dropped; 5 ms pause between samples so the worker is idle again. Also reports how long the
// enqueue call itself took (p50), the handler start after that call returned (p50, the worker's
// side), and the worker's RSS at rest.
import { nowMs, percentile, round, sleep } from '../lib/stats.mjs';
import { rssMiB } from '../lib/proc.mjs';

const WARMUP = 20;
const PAUSE_MS = 5;

export async function latencyRun(sys, redis, probe, { samples }) {
  await redis.admin.flushall();
  const w = sys.startWorker(redis, { concurrency: 10, processes: 1, probePort: probe.port });
  const producer = sys.producer(redis);
  try {
    await w.ready;
    await sleep(1000);
    const rssRest = w.workerPids().map(rssMiB);
    const supRest = w.extraPids().map(rssMiB);
    const lat = [];
    const enq = [];
    const after = [];
    for (let i = 0; i < WARMUP + samples; i++) {
      const started = probe.waitFor(i);
      const t0 = nowMs();
      await producer.enqueue({ lat: i });
      const tEnq = nowMs();
      const t = await started;
      if (i >= WARMUP) {
        lat.push(t - t0);
        enq.push(tEnq - t0);
        after.push(t - tEnq);
      }
      await sleep(PAUSE_MS);
    }
    return {
      p50Ms: round(percentile(lat, 50), 3),
      p99Ms: round(percentile(lat, 99), 3),
      meanMs: round(lat.reduce((a, b) => a + b, 0) / lat.length, 3),
      samples: lat.length,
      /** How long the producer's enqueue call itself took (part of the pickup latency). */
      enqueueCallP50Ms: round(percentile(enq, 50), 3),
      /** Handler start minus the moment the enqueue call returned (the worker's side; may be < 0). */
      afterEnqueueP50Ms: round(percentile(after, 50), 3),
      rssRestMiB: round(Math.max(...rssRest), 1),
      ...(supRest.length ? { supervisorRssRestMiB: round(Math.max(...supRest), 1) } : {}),
    };
  } finally {
    await producer.close();
    await w.stop();
  }
}
