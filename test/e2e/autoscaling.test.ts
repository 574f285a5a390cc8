// Autoscaling signals and the scale-down path, with the built CLI:
// - /metrics exports per queue this pod's busy slots, concurrency and saturation, and the queue's
//   latency by Redis's clock (a pod whose wall clock is an hour off reports the true age);
// - `verk init` writes a KEDA ScaledObject and an HPA whose queries name metrics that a real
//   scrape has, targets that follow from the defaults, and a Deployment whose preStop hook quiets
//   verk as PID 1: run in a PID namespace of its own (unshare), the hook's exact command stops
//   fetching while the running job finishes, and the SIGTERM after it loses nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startRedis, freePort, type RedisServer } from '../helpers/redis-server.js';
import { VERK_BIN, signalGroup, startWorker, verk } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { SLEEP_HANDLER, enqueueRaw, fastArgs, httpGet, projectWithHandlers, rawJob, registeredNodes } from '../helpers/e2e-kit.js';
import { faketimeEnv } from '../helpers/faketime.js';

let redis: RedisServer;
let dir: string;
beforeAll(async () => {
  redis = await startRedis();
  dir = projectWithHandlers({ Sleep: SLEEP_HANDLER });
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  await redis.client.flushall();
});

/** `name{labels} value` lines of a scrape, by name and exact label text. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function scrape(port: number, until: (text: string) => boolean, what: string): Promise<string> {
  return waitFor(
    async () => {
      const r = await httpGet(port, '/metrics');
      return r.status === 200 && until(r.body) ? r.body : undefined;
    },
    { timeoutMs: 20_000, what },
  );
}

const clockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-autoscale-clock-'));
const offsetFile = path.join(clockDir, 'offset');
fs.writeFileSync(offsetFile, '+3600');
const ft = faketimeEnv(offsetFile);
if (ft.why) console.log(`[skipped] latency by Redis's clock under a stepped wall clock: ${ft.why}`);

/** Can this machine give a process a PID namespace of its own (so verk is PID 1, as in a container)? */
function pidNamespaceWhy(): string | undefined {
  try {
    const r = execaSync('unshare', ['-fp', '--mount-proc', 'sh', '-c', 'echo $$'], { reject: false, timeout: 10_000 });
    return r.exitCode === 0 && r.stdout.trim() === '1' ? undefined : `unshare -fp failed: ${(r.stderr || r.stdout).split('\n')[0]}`;
  } catch (err) {
    return `unshare is not available: ${(err as Error).message.split('\n')[0]}`;
  }
}
const nsWhy = pidNamespaceWhy();
if (nsWhy) console.log(`[skipped] preStop hook as PID 1: ${nsWhy}`);

describe('autoscaling signals', () => {
  it("per-queue busy, concurrency and saturation of the pod; latency from Redis's clock", async () => {
    const port = await freePort();
    // Queue `held` is paused, so its job waits there: its latency is its true age.
    await redis.client.sadd('verk:paused', 'held');
    const enqueuedAt = Number((await redis.client.time())[0]) - 42;
    await enqueueRaw(redis.client, [rawJob('Sleep', [1], { queue: 'held', enqueued_at: enqueuedAt })], 'held');
    const worker = startWorker(fastArgs(redis.url, ['-p', '1', '-q', 'default:4,held:1', '--health-port', String(port), '--shutdown-timeout', '1s']), {
      cwd: dir,
      // The pod's wall clock is an hour ahead (libfaketime) where the machine allows it.
      env: ft.env,
    });
    try {
      await waitFor(async () => (await registeredNodes(redis.client)).some((n) => n.state === 'running'), { timeoutMs: 20_000, what: 'a running node' });
      await enqueueRaw(redis.client, [rawJob('Sleep', [30_000]), rawJob('Sleep', [30_000]), rawJob('Sleep', [30_000])]);
      const text = await scrape(port, (t) => sample(t, 'verk_queue_busy_jobs', 'queue="default"') === 3, 'three busy slots of default');
      expect(sample(text, 'verk_queue_concurrency', 'queue="default"')).toBe(4);
      expect(sample(text, 'verk_queue_saturation', 'queue="default"')).toBe(0.75);
      expect(sample(text, 'verk_queue_busy_jobs', 'queue="held"')).toBe(0);
      expect(sample(text, 'verk_queue_saturation', 'queue="held"')).toBe(0);
      const latency = sample(text, 'verk_queue_latency_seconds', 'queue="held"') ?? NaN;
      // [measured] the age by Redis's clock, whatever the pod's wall clock says (+3600 s here).
      console.log(`[measured] latency of a 42 s old job, pod clock ${ft.env ? '+3600 s' : 'true'}: ${latency.toFixed(1)} s`);
      expect(latency).toBeGreaterThanOrEqual(42);
      expect(latency).toBeLessThan(42 + 60);
    } finally {
      signalGroup(worker.pid!, 'SIGKILL');
      await worker;
    }
  }, 60_000);
});

describe('verk init: autoscaling manifests and the preStop hook', () => {
  it('writes a KEDA ScaledObject and an HPA whose queries name metrics a real scrape has, and a grace period of preStop + shutdown + 5 s', async () => {
    const proj = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-init-scale-'));
    const res = await verk(['init', proj]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain('k8s/keda-scaledobject.yaml');
    expect(res.stdout).toContain('k8s/hpa.yaml');
    const dep = parse(fs.readFileSync(path.join(proj, 'k8s/deployment.yaml'), 'utf8'));
    const keda = parse(fs.readFileSync(path.join(proj, 'k8s/keda-scaledobject.yaml'), 'utf8'));
    const hpa = parse(fs.readFileSync(path.join(proj, 'k8s/hpa.yaml'), 'utf8'));
    const pod = dep.spec.template.spec;
    expect(pod.containers[0].lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', 'kill -TSTP 1; sleep 10']);
    // 10 s preStop + 25 s shutdownTimeout + 5 s margin.
    expect(pod.terminationGracePeriodSeconds).toBe(40);

    expect(keda.kind).toBe('ScaledObject');
    expect(keda.spec.scaleTargetRef.name).toBe(dep.metadata.name);
    expect(keda.spec.minReplicaCount).toBe(1);
    expect(keda.spec.maxReplicaCount).toBe(10);
    const queries = keda.spec.triggers.map((t: { type: string; metadata: { query: string; threshold: string } }) => {
      expect(t.type).toBe('prometheus');
      expect(Number(t.metadata.threshold)).toBeGreaterThan(0);
      return t.metadata.query;
    });
    expect(queries).toEqual(['max(verk_queue_latency_seconds{queue="default"})', 'sum(verk_queue_busy_jobs{queue="default"})']);
    // The saturation trigger: 80 % of the pod's 10 slots (default:10, one process per pod).
    expect(keda.spec.triggers[1].metadata.threshold).toBe('8');

    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: dep.metadata.name });
    const [m] = hpa.spec.metrics;
    expect(m.pods.metric.name).toBe('verk_queue_saturation');
    expect(m.pods.metric.selector.matchLabels).toEqual({ queue: 'default' });
    expect(m.pods.target).toEqual({ type: 'AverageValue', averageValue: '0.8' });

    // Every metric the manifests name is in a real scrape of a pod serving that queue.
    const port = await freePort();
    const worker = startWorker(fastArgs(redis.url, ['-p', '1', '-q', 'default:10', '--health-port', String(port)]), { cwd: dir });
    try {
      const names = [...queries.join(' ').matchAll(/(verk_[a-z_]+)\{queue="default"\}/g), ['', m.pods.metric.name]].map((x) => x[1]);
      const text = await scrape(port, (t) => names.every((n) => sample(t, n, 'queue="default"') !== undefined), 'the metrics the manifests name');
      expect(names.every((n) => sample(text, n, 'queue="default"') !== undefined)).toBe(true);
    } finally {
      signalGroup(worker.pid!, 'SIGKILL');
      await worker;
    }
  }, 60_000);

  (nsWhy ? it.skip : it)(
    "the Deployment's preStop command quiets verk running as PID 1: the running job finishes, nothing new is fetched, SIGTERM then loses nothing",
    async () => {
      const proj = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-init-prestop-'));
      expect((await verk(['init', proj])).exitCode).toBe(0);
      const [shell, flag, hook] = parse(fs.readFileSync(path.join(proj, 'k8s/deployment.yaml'), 'utf8')).spec.template.spec.containers[0].lifecycle.preStop.exec.command;
      const port = await freePort();
      // verk as PID 1 of a PID namespace of its own, as the container's entrypoint.
      const pod = execa(
        'unshare',
        ['-fp', '--mount-proc', 'node', VERK_BIN, 'work', ...fastArgs(redis.url, ['-p', '1', '-q', 'default:2', '--health-port', String(port)])],
        {
          cwd: dir,
          reject: false,
          detached: true,
          all: true,
          env: { NO_COLOR: '1' },
        },
      );
      let hookRun: ReturnType<typeof execa> | undefined;
      try {
        await waitFor(async () => (await httpGet(port, '/readyz')).status === 200, { timeoutMs: 20_000, what: 'the pod ready' });
        await enqueueRaw(redis.client, [rawJob('Sleep', [1500], { jid: 'running' })]);
        await waitFor(async () => (await redis.client.llen('queue:default')) === 0, { timeoutMs: 10_000, what: 'the job taken' });
        // The hook, exactly as Kubernetes runs it in the container (its sleep ends with the test).
        const inner = fs.readFileSync(`/proc/${pod.pid}/task/${pod.pid}/children`, 'utf8').trim().split(/\s+/)[0];
        hookRun = execa('nsenter', ['-t', inner, '-p', '-m', shell, flag, hook], { reject: false, detached: true });
        await waitFor(async () => (await httpGet(port, '/readyz')).status === 503, { timeoutMs: 10_000, what: 'the pod quiet (readyz 503)' });
        await enqueueRaw(redis.client, [rawJob('Sleep', [1], { jid: 'after-quiet' })]);
        await waitFor(async () => (await redis.client.get('stat:processed')) === '1', { timeoutMs: 10_000, what: 'the running job finished while quiet' });
        // Quiet for a while: the job enqueued after the hook is not fetched.
        await new Promise((r) => setTimeout(r, 1000));
        expect(await redis.client.lrange('queue:default', 0, -1)).toHaveLength(1);
        // Then Kubernetes sends SIGTERM (to PID 1 of the namespace).
        execaSync('nsenter', ['-t', inner, '-p', '-m', 'kill', '-TERM', '1']);
        const res = await pod;
        expect(res.exitCode).toBe(0);
        expect(JSON.parse((await redis.client.lindex('queue:default', 0)) ?? '{}').jid).toBe('after-quiet');
        expect(await redis.client.keys('inprogress:*')).toEqual([]);
      } finally {
        if (hookRun?.pid) signalGroup(hookRun.pid, 'SIGKILL');
        if (pod.pid) signalGroup(pod.pid, 'SIGKILL');
        await pod;
      }
    },
    60_000,
  );
});
