// `verk show <jid>` with the built binary against a private Redis: a job found in a queue, in
// progress on a node, in schedule, in retry (Sidekiq's Base64(zlib) backtrace), in dead after
// really failing under `verk work` (verk's own backtrace), with --json checked field by field;
// a duplicate shown in both places; exit 1 with a clear message when the jid is nowhere.
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis, workArgs, workEnv } from '../helpers/e2e.js';
import { signalGroup, startWorker, verk } from '../helpers/cli.js';
import { failedEntry, jid as newJid, parseJson, scheduledEntry } from '../helpers/admin-kit.js';
import { waitFor } from '../helpers/wait.js';

let server: RedisServer;
usePrivateRedis((s) => (server = s));
const url = () => ['--redis-url', server.url];
const show = async (jid: string) => verk(['show', jid, '--json', ...url()]);

const FIELDS = [
  'args',
  'at',
  'attempts',
  'class',
  'created_at',
  'enqueued_at',
  'error_backtrace',
  'error_class',
  'error_message',
  'failed_at',
  'key',
  'node',
  'payload',
  'queue',
  'raw',
  'retried_at',
  'retry',
  'retry_count',
  'where',
];

describe('verk show', () => {
  it('finds a job in a queue and one in progress on a node, with the exact payload', async () => {
    const enq = parseJson(await verk(['enqueue', 'Mailers.Welcome', '{"user":12345678901234567890}', '--queue', 'mail', '--json', ...url()]));
    const r = await show(enq.jid);
    expect(r.exitCode).toBe(0);
    const rep = parseJson(r);
    expect(Object.keys(rep).sort()).toEqual(['jid', 'matches', 'scanned', 'truncated']);
    expect(rep.jid).toBe(enq.jid);
    expect(rep.truncated).toEqual([]);
    expect(rep.scanned).toBeGreaterThanOrEqual(1);
    const [m] = rep.matches;
    expect(Object.keys(m).sort()).toEqual(FIELDS);
    const stored = (await server.client.lrange('queue:mail', 0, -1))[0];
    expect(m).toMatchObject({
      where: 'queue',
      key: 'queue:mail',
      queue: 'mail',
      node: null,
      at: null,
      class: 'Mailers.Welcome',
      args: '[{"user":12345678901234567890}]',
      retry_count: null,
      failed_at: null,
      error_class: null,
      error_backtrace: null,
      raw: stored,
    });
    expect(m.enqueued_at).toBeCloseTo(Date.now() / 1000, -2);
    expect(m.payload.jid).toBe(enq.jid);

    const running = newJid();
    await server.client.lpush('inprogress:default:web-1-abc', `{"class":"Slow","args":[1],"queue":"default","jid":"${running}","enqueued_at":1795389061.5}`);
    const ip = parseJson(await show(running)).matches;
    expect(ip).toHaveLength(1);
    expect(ip[0]).toMatchObject({
      where: 'in_progress',
      key: 'inprogress:default:web-1-abc',
      queue: 'default',
      node: 'web-1-abc',
      class: 'Slow',
      args: '[1]',
      enqueued_at: 1795389061.5,
    });
    const text = await verk(['show', running, ...url()]);
    expect(text.stdout).toContain('running (in progress) on node web-1-abc');
  });

  it("finds schedule and retry entries with their score; decodes Sidekiq's compressed backtrace; shows a duplicate twice", async () => {
    const sj = newJid();
    await server.client.zadd('schedule', 1795400000, scheduledEntry({ jid: sj, class: 'Later' }));
    const s = parseJson(await show(sj)).matches[0];
    expect(s).toMatchObject({
      where: 'schedule',
      key: 'schedule',
      queue: 'default',
      at: 1795400000,
      class: 'Later',
      args: '[2]',
      retry: true,
      created_at: 1795388709.9237423,
    });

    const rj = newJid();
    const lines = ["app/jobs/failing_job.rb:5:in `perform'", "sidekiq/processor.rb:196:in `execute_job'"];
    const compressed = deflateSync(Buffer.from(JSON.stringify(lines))).toString('base64');
    await server.client.zadd('retry', 1795390000, failedEntry({ jid: rj, retryCount: 2, error: 'boom', extra: `"error_backtrace":${JSON.stringify(compressed)}` }));
    const r = parseJson(await show(rj)).matches[0];
    expect(r).toMatchObject({
      where: 'retry',
      at: 1795390000,
      class: 'FailingJob',
      retry: 5,
      retry_count: 2,
      error_class: 'ArgumentError',
      error_message: 'boom',
      failed_at: 1795389061.806667,
      error_backtrace: lines,
    });
    const text = (await verk(['show', rj, ...url()])).stdout;
    expect(text).toMatch(/error\s+ArgumentError: boom/);
    expect(text).toContain("    app/jobs/failing_job.rb:5:in `perform'");
    expect(text).toMatch(/next retry\s+2026-11-22T23:26:40\.000Z \(\d+d ago\)/);

    // Elixir verk's plain-string backtrace, and the same jid also in dead: both shown.
    await server.client.zadd('dead', 1795391000, failedEntry({ jid: rj, extra: '"error_backtrace":"lib/a.ex:1: A.b/0\\nlib/c.ex:2: C.d/1"' }));
    const both = parseJson(await show(rj)).matches;
    expect(both.map((x: any) => x.where)).toEqual(['retry', 'dead']);
    expect(both[1].error_backtrace).toEqual(['lib/a.ex:1: A.b/0', 'lib/c.ex:2: C.d/1']);
    expect((await verk(['show', rj, ...url()])).stdout).toMatch(/is in 2 places \(a duplicate\)/);
  });

  it('shows a job that really failed under verk work, in dead, with its error and backtrace', async () => {
    const enq = parseJson(await verk(['enqueue', 'Fail', '"x"', '--json', ...url()]));
    const w = startWorker(workArgs(server, ['-p', '1']), { env: workEnv(server) });
    try {
      await waitFor(async () => (await server.client.zcard('dead')) === 1, { timeoutMs: 30_000, what: 'the Fail job to die' });
    } finally {
      signalGroup(w.pid!, 'SIGTERM');
      await w;
    }
    const r = await show(enq.jid);
    expect(r.exitCode).toBe(0);
    const [m] = parseJson(r).matches;
    expect(m).toMatchObject({
      where: 'dead',
      class: 'Fail',
      queue: 'default',
      args: '["x"]',
      error_class: 'TypeError',
      error_message: 'failing on purpose: ["x"]',
      retry_count: 1,
    });
    expect(m.error_backtrace.length).toBeGreaterThan(0);
    expect(m.error_backtrace.some((l: string) => l.includes('Fail.js'))).toBe(true);
    expect(m.failed_at).toBeGreaterThan(0);
    expect(m.at).toBeGreaterThanOrEqual(m.failed_at);
    // Both failed runs are in its attempt history, oldest first; the text output lists them.
    expect(m.attempts).toHaveLength(2);
    expect(m.attempts.map((a: { error_class: string }) => a.error_class)).toEqual(['TypeError', 'TypeError']);
    expect(m.attempts[0].at).toBeLessThanOrEqual(m.attempts[1].at);
    const text = await verk(['show', enq.jid, ...url()], { env: { NO_COLOR: '1' } });
    expect(text.stdout).toMatch(/\n {2}attempts\n {4}\d{4}-\d\d-\d\dT[^\n]*TypeError: failing on purpose: \["x"\]\n {4}\d{4}-[^\n]*TypeError/);
  }, 60_000);

  it('exits 1 with a clear message when the jid is nowhere; a jid with spaces is a usage error', async () => {
    await server.client.lpush('queue:default', '{"class":"A","jid":"other","args":[]}', 'not json');
    const r = await verk(['show', 'nope123', ...url()]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/job nope123 not found in any queue, in-progress list, schedule, retry or dead \(2 entries looked at\)/);
    const j = await show('nope123');
    expect(j.exitCode).toBe(1);
    expect(parseJson(j)).toEqual({ jid: 'nope123', matches: [], scanned: 2, truncated: [] });
    expect((await verk(['show', 'a b', ...url()])).exitCode).toBe(64);
  });

  it('reads at most 100 000 entries of a list and names the list it cut short', async () => {
    const far = newJid();
    // RPUSH: the job sits at index 100 000, just past the bound.
    const filler = Array.from({ length: 10_000 }, (_, i) => `{"class":"A","jid":"f${i}","args":[]}`);
    for (let i = 0; i < 10; i++) await server.client.rpush('queue:big', ...filler);
    await server.client.rpush('queue:big', `{"class":"A","jid":"${far}","args":[]}`);
    const r = await verk(['show', far, ...url()]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/\(100000 entries looked at; not fully scanned \(over 100000 entries\): queue:big\)/);
    expect(parseJson(await show(far)).truncated).toEqual(['queue:big']);
  }, 60_000);
});
