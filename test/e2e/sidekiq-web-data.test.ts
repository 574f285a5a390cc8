// What Sidekiq Web reads from a running `verk work` (the built binary, a private Redis):
// the History graph's daily counters `stat:processed:<UTC day>` = executions and
// `stat:failed:<UTC day>` = failures, with Sidekiq's 5-year TTL, equal to the per-job totals the
// ack and fail scripts keep and unchanged by the final flush at stop (no double count); and the
// Busy page's `<identity>:workers` entries carrying each running job's args, exact (big
// integers keep their digits) or truncated when huge; the process info's tag and labels naming
// the identity and the node ids that `verk processes` and `verk nodes` show; the warning for a
// queue named like a date.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { signalGroup, startWorker, verk } from '../helpers/cli.js';
import { handlerDir, parseJson, REDIS_PRELUDE, rawJobs } from '../helpers/admin-kit.js';
import { fastArgs } from '../helpers/e2e-kit.js';
import { waitFor } from '../helpers/wait.js';
import { STATS_TTL_S } from '../../src/runner/daily-stats.js';
import { ARGS_PREVIEW_MAX } from '../../src/job/args-preview.js';

let server: RedisServer;
usePrivateRedis((s) => (server = s));
let dir: string;

beforeAll(() => {
  dir = handlerDir({
    Ok: 'export function perform() {}\n',
    Boom: "export const options = { retry: false };\nexport function perform() { throw new Error('boom'); }\n",
    Slow: `${REDIS_PRELUDE}export async function perform(args, ctx) {
  await redis.sadd('test:slow', ctx.jid);
  await new Promise((r) => { const t = setTimeout(r, 60000); ctx.signal.addEventListener('abort', () => { clearTimeout(t); r(); }); });
}\n`,
  });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const work = (extra: string[] = []) =>
  startWorker(fastArgs(server.url, ['--handlers', dir, '--queues', 'default:4', '-p', '2', '--log-level', 'error', '--shutdown-timeout', '1s', ...extra]), {
    env: { TEST_REDIS_URL: server.url },
  });

/** Sums every `stat:<name>:<YYYY-MM-DD>` key (a run may cross midnight UTC). */
async function daily(name: 'processed' | 'failed'): Promise<{ sum: number; keys: string[] }> {
  const keys = (await server.client.keys(`stat:${name}:*`)).filter((k) => /:\d{4}-\d{2}-\d{2}$/.test(k));
  const values = keys.length ? await server.client.mget(...keys) : [];
  return { sum: values.reduce((t, v) => t + Number(v), 0), keys };
}

describe("Sidekiq Web's data from verk work", () => {
  it('daily counters: N executions and M failures, with the 5-year TTL, equal to the totals, not doubled at stop', async () => {
    const N_OK = 30;
    const M = 7;
    const r = server.client;
    await r.sadd('queues', 'default');
    await r.lpush('queue:default', ...rawJobs('Ok', 'default', N_OK), ...rawJobs('Boom', 'default', M));
    const worker = work();
    try {
      await waitFor(async () => (await daily('processed')).sum === N_OK + M && (await daily('failed')).sum === M, {
        timeoutMs: 30_000,
        what: `stat:processed:<day> = ${N_OK + M}, stat:failed:<day> = ${M}`,
      });
      const days = [Date.now(), Date.now() - 86_400_000].map((ms) => `stat:processed:${new Date(ms).toISOString().slice(0, 10)}`);
      const { keys } = await daily('processed');
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) expect(days).toContain(k); // today's (yesterday's too if the run crossed midnight UTC)
      for (const k of [...keys, ...(await daily('failed')).keys]) {
        const ttl = await r.ttl(k);
        expect(ttl, k).toBeGreaterThan(STATS_TTL_S - 60);
        expect(ttl, k).toBeLessThanOrEqual(STATS_TTL_S);
      }
      // The same figures as the per-job totals the ack and fail scripts count.
      expect(Number(await r.get('stat:processed'))).toBe(N_OK + M);
      expect(Number(await r.get('stat:failed'))).toBe(M);
      // What this supervisor has added so far is recorded under its identity.
      const [identity] = await r.smembers('processes');
      expect(await r.hgetall(`verk:stat:flushed:${identity}`)).toEqual({ processed: String(N_OK + M), failed: String(M) });
      const sidekiq = parseJson(await verk(['stats', '--json', '--redis-url', server.url]));
      expect(sidekiq).toMatchObject({ processed: N_OK + M, failed: M });
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
      await worker;
    }
    // The final flush at stop found nothing new: nothing doubled; the record now expires soon.
    expect((await daily('processed')).sum).toBe(N_OK + M);
    expect((await daily('failed')).sum).toBe(M);
    console.log(
      `[measured] ${N_OK + M} executions, ${M} failures → stat:processed:<day> ${(await daily('processed')).sum}, stat:failed:<day> ${(await daily('failed')).sum}`,
    );
  }, 60_000);

  it("the workers hash carries running jobs' args (exact, or truncated when huge); tag and labels name the identity and nodes", async () => {
    const r = server.client;
    const exact = '[1, "two", {"big":12345678901234567890}]';
    const huge = JSON.stringify(['h'.repeat(200 * 1024)]);
    const [small] = rawJobs('Slow', 'default', 1, exact);
    const [big] = rawJobs('Slow', 'default', 1, huge);
    await r.sadd('queues', 'default');
    await r.lpush('queue:default', small, big);
    const worker = work();
    try {
      const entries = await waitFor(
        async () => {
          const [identity] = await r.smembers('processes');
          if (!identity) return undefined;
          const w = await r.hgetall(`${identity}:workers`);
          return Object.keys(w).length === 2 ? { identity, w } : undefined;
        },
        { timeoutMs: 30_000, what: 'two running jobs in the workers hash' },
      );
      const byJid = new Map(Object.values(entries.w).map((v) => [JSON.parse(JSON.parse(v).payload).jid as string, JSON.parse(v)]));
      const smallEntry = byJid.get(JSON.parse(small).jid);
      expect(smallEntry.queue).toBe('default');
      // Spliced in as the payload's own text: the big integer keeps every digit.
      expect(smallEntry.payload).toContain(`"args":${exact}`);
      const bigEntry = byJid.get(JSON.parse(big).jid);
      expect(bigEntry.payload.length).toBeLessThan(ARGS_PREVIEW_MAX + 500);
      const bigArgs = JSON.parse(bigEntry.payload).args;
      expect(bigArgs).toEqual([`(args truncated by verk: ${huge.length} characters; the first ${ARGS_PREVIEW_MAX} follow)`, `${huge.slice(0, ARGS_PREVIEW_MAX)}…`]);
      // The node info the heartbeat writes keeps its running list without args.
      const nodes = parseJson<{ nodes: any[] }>(await verk(['nodes', '--json', '--redis-url', server.url])).nodes;
      for (const n of nodes) {
        const running = JSON.parse((await r.hget(`verk:node:${n.id}:info`, 'running')) ?? '[]');
        for (const job of running) expect(Object.keys(job).sort()).toEqual(['class', 'jid', 'queue', 'started_at']);
      }
      // Busy page: the process's tag is the identity, its labels the node ids `verk nodes` lists.
      const info = JSON.parse((await r.hget(entries.identity, 'info'))!);
      expect(info.tag).toBe(entries.identity);
      expect(info.labels).toEqual(['verk', ...nodes.map((n) => n.id).sort()]);
      expect(nodes.every((n) => n.identity === entries.identity)).toBe(true);
      const procs = parseJson<{ processes: any[] }>(await verk(['processes', '--json', '--redis-url', server.url])).processes;
      expect(procs.map((p) => p.identity)).toEqual([entries.identity]);
      expect(procs[0].labels).toEqual(info.labels);
      expect(procs[0].nodes.map((n: { id: string }) => n.id).sort()).toEqual(info.labels.slice(1));
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
      await worker;
    }
  }, 60_000);

  it('warns at start about a queue named like a date (its counter is that day’s Sidekiq counter)', async () => {
    const worker = startWorker(fastArgs(server.url, ['--handlers', dir, '--queues', '2026-03-01:1,default:1', '-p', '1', '--shutdown-timeout', '1s']), {
      env: { TEST_REDIS_URL: server.url },
    });
    let out = '';
    worker.all?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      await waitFor(() => out.includes('a queue named like a date'), { timeoutMs: 20_000, what: 'the warning' });
      expect(out).toContain('"queues":"2026-03-01"');
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
      await worker;
    }
  }, 30_000);
});
