// Payloads written by Sidekiq's client and by Elixir verk (test/fixtures/payloads, copied from
// the reference docs) and by `verk enqueue` run under the built `verk work` and fail into `retry`
// in the shape Sidekiq::API reads: error_class, numeric failed_at, retry_count 0, backtrace as
// an array of strings, args and unknown keys byte for byte. `verk retry requeue --all` sends them
// back; their second failure keeps failed_at and adds a numeric retried_at.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startWorker, signalGroup, verk } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { handlerDir, parseJson } from '../helpers/admin-kit.js';
import { rawMember, topLevelMembers } from '../../src/job/raw-json.js';

const FIXTURES = new URL('../fixtures/payloads/', import.meta.url);
const fixture = (name: string) => fs.readFileSync(new URL(name, FIXTURES), 'utf8').trim();
const PAYLOADS = {
  sidekiq: fixture('sidekiq-client-push.json'),
  bigint: fixture('sidekiq-tags-bigint.json'),
  verk: fixture('verk-elixir-enqueue.json'),
};

let server: RedisServer;
let dir: string;

beforeAll(async () => {
  server = await startRedis();
  dir = handlerDir({ MyJob: `export function perform(args) { throw new RangeError('fixture failure ' + args.length); }\n` });
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Everything but the fields a failure writes, as exact member texts. */
function untouched(raw: string): string[] {
  // What a failure writes: Sidekiq's last-error fields, and verk's attempt history (verk_attempts).
  const failure = new Set(['error_message', 'error_class', 'failed_at', 'retried_at', 'retry_count', 'error_backtrace', 'verk_attempts']);
  return topLevelMembers(raw)
    .filter((m) => !failure.has(m.key))
    .map((m) => raw.slice(m.start, m.end));
}

describe('foreign payloads under verk work', () => {
  it('fail into retry in the Sidekiq shape, and fail again after verk retry requeue', async () => {
    const r = server.client;
    const enq = await verk(['enqueue', 'MyJob', '7', '"x"', '{"deep":[]}', '--json', '--redis-url', server.url], { cwd: dir });
    expect(enq.exitCode).toBe(0);
    const ours = (await r.lindex('queue:default', 0))!;
    await r.lpush('queue:default', PAYLOADS.sidekiq, PAYLOADS.bigint, PAYLOADS.verk);
    const sources = { ...PAYLOADS, ours };
    const worker = startWorker(
      [
        '--redis-url',
        server.url,
        '--handlers',
        dir,
        '--queues',
        'default:5',
        '--processes',
        '1',
        '--heartbeat-interval',
        '200ms',
        '--node-ttl',
        '3s',
        '--scheduler-interval',
        '100ms',
        '--log-level',
        'warn',
      ],
      { cwd: dir },
    );
    try {
      const before = Date.now() / 1000;
      await waitFor(async () => (await r.zcard('retry')) === 4, { timeoutMs: 20_000, what: '4 entries in retry' });
      const entries = await r.zrange('retry', 0, -1, 'WITHSCORES');
      const byJid = new Map<string, { raw: string; score: number }>();
      for (let i = 0; i < entries.length; i += 2) byJid.set(JSON.parse(entries[i]).jid, { raw: entries[i], score: Number(entries[i + 1]) });
      for (const [name, src] of Object.entries(sources)) {
        const jid = JSON.parse(src).jid as string;
        const e = byJid.get(jid);
        expect(e, name).toBeDefined();
        const job = JSON.parse(e!.raw);
        expect(job.error_class, name).toBe('RangeError');
        expect(job.error_message, name).toMatch(/^fixture failure \d$/);
        expect(typeof job.failed_at, name).toBe('number');
        expect(job.failed_at, name).toBeGreaterThan(before - 60);
        expect(job.retry_count, name).toBe(0);
        expect(job.retried_at ?? null, name).toBeNull();
        expect(Array.isArray(job.error_backtrace), name).toBe(true);
        expect(job.error_backtrace.length, name).toBeGreaterThan(0);
        for (const line of job.error_backtrace) expect(typeof line, name).toBe('string');
        expect(rawMember(e!.raw, 'args'), name).toBe(rawMember(src, 'args'));
        expect(untouched(e!.raw), name).toEqual(untouched(src));
        expect(e!.score, name).toBeGreaterThan(job.failed_at + 14); // Sidekiq backoff: ≥ 15 s for the first retry
      }
      expect(rawMember(byJid.get('2ca11a4fc87165632fa915a8')!.raw, 'tags')).toBe('["a","b"]');
      expect(rawMember(byJid.get('3141592653589793238')!.raw, 'args')).toBe('"[1,2,3]"');

      // `verk retry list` reads all four, including the verk-shaped one.
      const list = parseJson(await verk(['retry', 'list', '--json', '--redis-url', server.url], { cwd: dir }));
      expect(list.count).toBe(4);
      const verkRow = list.entries.find((e: { jid: string }) => e.jid === '3141592653589793238');
      expect(verkRow).toMatchObject({ class: 'Elixir.MyJob', queue: 'default', args: '[1,2,3]', error_class: 'RangeError', retry_count: 0 });

      const requeue = parseJson(await verk(['retry', 'requeue', '--all', '--json', '--redis-url', server.url], { cwd: dir }));
      expect(requeue.done).toBe(4);
      await waitFor(
        async () => {
          const again = await r.zrange('retry', 0, -1);
          return again.length === 4 && again.every((raw) => typeof JSON.parse(raw).retried_at === 'number');
        },
        { timeoutMs: 20_000, what: 'second failures in retry' },
      );
      for (const raw of await r.zrange('retry', 0, -1)) {
        const job = JSON.parse(raw);
        const first = JSON.parse(byJid.get(job.jid)!.raw);
        expect(job.failed_at).toBe(first.failed_at);
        expect(job.retried_at).toBeGreaterThanOrEqual(first.failed_at);
        expect(job.retry_count).toBe(0); // a manual requeue does not spend a retry (Sidekiq's SortedEntry#retry)
        expect(rawMember(raw, 'args')).toBe(rawMember(byJid.get(job.jid)!.raw, 'args'));
      }
      expect(Number(await r.get('stat:failed'))).toBe(8);
    } catch (err) {
      // Show what the worker said: a timeout alone does not tell why.
      signalGroup(worker.pid!, 'SIGTERM');
      const out = await worker;
      throw Object.assign(err as Error, { message: `${(err as Error).message}\n--- verk work output ---\n${out.all}` });
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
      await worker;
    }
  });
});
