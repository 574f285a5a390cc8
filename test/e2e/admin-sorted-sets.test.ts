// `verk retry|dead|schedule …` (built CLI, real Redis) against fabricated Sidekiq-shaped
// entries: list (table and --json, field by field), selection by jid/--queue/--class/--all with
// --limit, --dry-run, requeue (fresh enqueued_at, other bytes kept, idempotent, never doubled
// under racing admins), kill (to dead as it is, dead trimmed, once under racing admins), delete,
// clear, and the usage errors.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { verk } from '../helpers/cli.js';
import { failedEntry, scheduledEntry, zadd, parseJson } from '../helpers/admin-kit.js';
import { rawMember } from '../../src/job/raw-json.js';
import { payloadIdentity } from '../../src/job/identity.js';
import { openAdmin } from '../../src/api/admin-context.js';

let server: RedisServer;
let r: RedisServer['client'];
let now: number;
const J = { a1: 'a1a1a1a1a1a1a1a1a1a1a1a1', a2: 'a2a2a2a2a2a2a2a2a2a2a2a2', b1: 'b1b1b1b1b1b1b1b1b1b1b1b1' };
const BIG_ARGS = '[12345678901234567890,[],{},"caf\\u00e9 \\"q\\""]';
let retryA1: string;

beforeAll(async () => {
  server = await startRedis();
  r = server.client;
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  await r.flushdb();
  now = Number((await r.time())[0]);
  retryA1 = failedEntry({
    jid: J.a1,
    class: 'Mailers::Welcome',
    args: BIG_ARGS,
    retryCount: 2,
    retriedAt: now - 20,
    error: 'smtp down\nsecond line',
    extra: '"tags":["x"]',
  });
  await zadd(r, 'retry', [
    [now + 60, retryA1],
    [now + 120, failedEntry({ jid: J.a2, class: 'Mailers::Welcome' })],
    [now + 30, failedEntry({ jid: J.b1, class: 'Billing.Charge', queue: 'billing' })],
  ]);
});

const url = () => ['--redis-url', server.url];

describe('retry list', () => {
  it('--json: every field of an entry, soonest first, with total and count', async () => {
    const res = await verk(['retry', 'list', '--json', ...url()]);
    expect(res.exitCode).toBe(0);
    const out = parseJson(res);
    expect(out.set).toBe('retry');
    expect(out.total).toBe(3);
    expect(out.count).toBe(3);
    expect(out.entries.map((e: { jid: string }) => e.jid)).toEqual([J.b1, J.a1, J.a2]);
    expect(out.entries[1]).toEqual({
      jid: J.a1,
      class: 'Mailers::Welcome',
      queue: 'default',
      args: BIG_ARGS,
      at: now + 60,
      error_class: 'ArgumentError',
      error_message: 'smtp down\nsecond line',
      retry_count: 2,
      failed_at: 1795389061.806667,
      retried_at: now - 20,
      enqueued_at: 1795389061.3695781,
      created_at: 1795389061.3695548,
      malformed: false,
    });
  });

  it('selects by --queue, --class (Ruby :: = .), jid, and --limit', async () => {
    const q = parseJson(await verk(['retry', 'list', '--queue', 'billing', '--json', ...url()]));
    expect(q.entries.map((e: { jid: string }) => e.jid)).toEqual([J.b1]);
    expect(q.total).toBe(3);
    const c = parseJson(await verk(['retry', 'list', '--class', 'Mailers.Welcome', '--limit', '1', '--json', ...url()]));
    expect(c.count).toBe(1);
    expect(c.entries[0].jid).toBe(J.a1);
    const j = parseJson(await verk(['retry', 'list', J.a2, '--json', ...url()]));
    expect(j.entries.map((e: { jid: string }) => e.jid)).toEqual([J.a2]);
  });

  it('table: class, truncated args, error, retry count, times', async () => {
    const res = await verk(['retry', 'list', ...url()]);
    expect(res.exitCode).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^JID\s+CLASS\s+QUEUE\s+ARGS\s+ERROR\s+RETRIES\s+FAILED\s+NEXT RETRY$/);
    const a1 = lines.find((l) => l.startsWith(J.a1))!;
    expect(a1).toContain('Mailers::Welcome');
    expect(a1).toContain('[12345678901234567890,[],{},"caf'); // cut to 40 characters…
    expect(a1).toContain('…');
    expect(a1).toContain('ArgumentError: smtp down second line');
    expect(a1).toMatch(/\s2\s+20s ago\s+in (59|60)(\.\d)?s$|\s2\s+2\d(\.\d)?s ago\s+in \S+$/);
    expect(lines.at(-1)).toBe('3 of 3 entries in retry');
  });
});

describe('retry requeue', () => {
  it('--dry-run changes nothing', async () => {
    const res = await verk(['retry', 'requeue', '--all', '--dry-run', '--json', ...url()]);
    expect(res.exitCode).toBe(0);
    const out = parseJson(res);
    expect(out).toMatchObject({ set: 'retry', action: 'requeue', dry_run: true, matched: 3, done: 0, skipped: [], missing: [] });
    expect(out.jids.sort()).toEqual([J.a1, J.a2, J.b1].sort());
    expect(await r.zcard('retry')).toBe(3);
    expect(await r.exists('queue:default')).toBe(0);
  });

  it('moves one entry with a fresh enqueued_at and retry_count - 1, keeping every other byte', async () => {
    const res = await verk(['retry', 'requeue', J.a1, '--json', ...url()]);
    expect(res.exitCode).toBe(0);
    expect(parseJson(res)).toEqual({ set: 'retry', action: 'requeue', dry_run: false, matched: 1, done: 1, jids: [J.a1], skipped: [], missing: [] });
    expect(await r.zcard('retry')).toBe(2);
    const queued = await r.lrange('queue:default', 0, -1);
    expect(queued).toHaveLength(1);
    expect(await r.sismember('queues', 'default')).toBe(1);
    const job = JSON.parse(queued[0]);
    expect(job.enqueued_at).toBeGreaterThanOrEqual(now);
    expect(job.enqueued_at).toBeLessThan(now + 30);
    expect(job.retry_count).toBe(1);
    expect(rawMember(queued[0], 'args')).toBe(BIG_ARGS);
    // Apart from the two fields set, the payload is byte for byte the entry.
    const strip = (s: string) => s.replace(/,?"(enqueued_at|retry_count)":[0-9.e+-]+/g, '');
    expect(strip(queued[0])).toBe(strip(retryA1));
  });

  it('is idempotent: an entry already gone is reported missing (exit 1) and pushed once', async () => {
    expect((await verk(['retry', 'requeue', J.b1, ...url()])).exitCode).toBe(0);
    const again = await verk(['retry', 'requeue', J.b1, '--json', ...url()]);
    expect(again.exitCode).toBe(1);
    expect(parseJson(again)).toMatchObject({ matched: 0, done: 0, missing: [J.b1] });
    expect(again.stderr).toContain(`not found in retry: ${J.b1}`);
    expect(await r.llen('queue:billing')).toBe(1);
    // The script itself: a second call with the same member moves nothing.
    const ctx = openAdmin({ redisUrl: server.url });
    try {
      const member = failedEntry({ jid: 'c'.repeat(24) });
      await r.zadd('dead', now, member);
      expect(await ctx.scripts.requeue('dead', Buffer.from(member), member, 'default')).toBe('moved');
      expect(await ctx.scripts.requeue('dead', Buffer.from(member), member, 'default')).toBe('gone');
      expect(await r.lrange('queue:default', 0, -1)).toEqual([member]);
    } finally {
      await ctx.close();
    }
  });

  it('two admins requeueing everything at once push each job exactly once', async () => {
    const many: [number, string][] = Array.from({ length: 300 }, (_, i) => [now + i, failedEntry({ jid: `ff${String(i).padStart(22, '0')}` })]);
    await zadd(r, 'retry', many);
    const [x, y] = await Promise.all([verk(['retry', 'requeue', '--all', '--json', ...url()]), verk(['retry', 'requeue', '--all', '--json', ...url()])]);
    expect(x.exitCode).toBe(0);
    expect(y.exitCode).toBe(0);
    const done = parseJson(x).done + parseJson(y).done;
    expect(done).toBe(303);
    const jids = [...(await r.lrange('queue:default', 0, -1)), ...(await r.lrange('queue:billing', 0, -1))].map((p) => JSON.parse(p).jid);
    expect(jids).toHaveLength(303);
    expect(new Set(jids).size).toBe(303);
    expect(await r.zcard('retry')).toBe(0);
  });

  it('table output names what moved; no selector is a usage error (64)', async () => {
    const res = await verk(['retry', 'requeue', '--queue', 'billing', ...url()]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toBe(`requeued 1 of 1 selected entry of retry\n  ${J.b1}`);
    const bare = await verk(['retry', 'requeue', ...url()]);
    expect(bare.exitCode).toBe(64);
    expect(bare.stderr).toContain('name the entries');
    expect((await verk(['retry', 'requeue', '--all', J.a1, ...url()])).exitCode).toBe(64);
    expect((await verk(['retry', 'list', '--limit', 'ten', ...url()])).exitCode).toBe(64);
  });
});

describe('retry and schedule kill', () => {
  it('moves retry entries to dead byte for byte, scored now; --dry-run changes nothing; a second kill finds them gone (exit 1)', async () => {
    const dry = parseJson(await verk(['retry', 'kill', '--all', '--dry-run', '--json', ...url()]));
    expect(dry).toMatchObject({ set: 'retry', action: 'kill', dry_run: true, matched: 3, done: 0 });
    expect(await r.zcard('dead')).toBe(0);
    const res = await verk(['retry', 'kill', J.a1, '--json', ...url()]);
    expect(res.exitCode).toBe(0);
    expect(parseJson(res)).toEqual({ set: 'retry', action: 'kill', dry_run: false, matched: 1, done: 1, jids: [J.a1], skipped: [], missing: [] });
    expect(await r.zrange('dead', 0, -1)).toEqual([retryA1]);
    expect(Number(await r.zscore('dead', retryA1))).toBeGreaterThanOrEqual(now);
    expect(await r.zcard('retry')).toBe(2);
    const again = await verk(['retry', 'kill', J.a1, ...url()]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain(`not found in retry: ${J.a1}`);
    expect(await r.zcard('dead')).toBe(1);
  });

  it('two admins killing everything at once move each entry exactly once; the dead set keeps deadMaxJobs', async () => {
    const [x, y] = await Promise.all([verk(['retry', 'kill', '--all', '--json', ...url()]), verk(['retry', 'kill', '--all', '--json', ...url()])]);
    expect(parseJson(x).done + parseJson(y).done).toBe(3);
    expect(await r.zcard('dead')).toBe(3);
    expect(await r.zcard('retry')).toBe(0);
    // A kill trims dead to deadMaxJobs (here 2, from the environment), oldest first.
    await zadd(r, 'schedule', [[now + 500, scheduledEntry({ jid: 's'.repeat(24) })]]);
    const res = await verk(['schedule', 'kill', '--all', ...url()], { env: { VERK_DEAD_MAX_JOBS: '2' } });
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toBe(`moved to dead 1 of 1 selected entry of schedule\n  ${'s'.repeat(24)}`);
    expect(await r.zcard('dead')).toBe(2);
    expect(await r.zcard('schedule')).toBe(0);
    // Dead entries are dead already: no such command (64).
    expect((await verk(['dead', 'kill', '--all', ...url()])).exitCode).toBe(64);
  });
});

describe('retry delete and clear', () => {
  it('delete by --class, with --json and as text', async () => {
    const res = await verk(['retry', 'delete', '--class', 'Billing.Charge', '--json', ...url()]);
    expect(res.exitCode).toBe(0);
    expect(parseJson(res)).toEqual({ set: 'retry', action: 'delete', dry_run: false, matched: 1, done: 1, jids: [J.b1], skipped: [], missing: [] });
    const text = await verk(['retry', 'delete', J.a2, ...url()]);
    expect(text.stdout).toBe(`deleted 1 of 1 selected entry of retry\n  ${J.a2}`);
    expect(await r.zrange('retry', 0, -1)).toEqual([retryA1]);
  });

  it('clear --dry-run counts, clear empties', async () => {
    const dry = parseJson(await verk(['retry', 'clear', '--dry-run', '--json', ...url()]));
    expect(dry).toMatchObject({ set: 'retry', action: 'clear', dry_run: true, matched: 3, done: 0 });
    expect(await r.zcard('retry')).toBe(3);
    const res = await verk(['retry', 'clear', ...url()]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toBe('deleted 3 of 3 selected entries of retry');
    expect(await r.exists('retry')).toBe(0);
    expect((await verk(['retry', 'list', ...url()])).stdout).toBe('retry is empty');
  });
});

describe('dead', () => {
  beforeEach(async () => {
    await zadd(r, 'dead', [
      [now - 100, failedEntry({ jid: 'd1'.repeat(12), queue: 'mail', retryCount: 5, retriedAt: now - 100 })],
      [now - 10, failedEntry({ jid: 'd2'.repeat(12) })],
      [now - 50, 'not json at all'],
    ]);
  });

  it('list --json: newest first; a malformed entry shows as such with a stand-in jid', async () => {
    const out = parseJson(await verk(['dead', 'list', '--json', ...url()]));
    expect(out.total).toBe(3);
    expect(out.entries.map((e: { jid: string }) => e.jid)).toEqual(['d2'.repeat(12), payloadIdentity('not json at all'), 'd1'.repeat(12)]);
    expect(out.entries[1]).toMatchObject({ class: null, queue: null, args: 'not json at all', malformed: true, error_class: 'MalformedPayload', at: now - 50 });
    expect(out.entries[2]).toMatchObject({ queue: 'mail', retry_count: 5, retried_at: now - 100, at: now - 100 });
  });

  it('list table has a DIED column', async () => {
    const res = await verk(['dead', 'list', ...url()]);
    expect(res.stdout.split('\n')[0]).toMatch(/^JID\s+CLASS\s+QUEUE\s+ARGS\s+ERROR\s+RETRIES\s+FAILED\s+DIED$/);
    expect(res.stdout).toMatch(/\(malformed\)/);
  });

  it('requeue --all skips the malformed entry; delete removes it by its stand-in jid; clear', async () => {
    const res = parseJson(await verk(['dead', 'requeue', '--all', '--json', ...url()]));
    expect(res.done).toBe(2);
    expect(res.skipped).toEqual([{ jid: payloadIdentity('not json at all'), reason: expect.stringContaining('malformed payload') }]);
    expect(await r.llen('queue:mail')).toBe(1);
    expect(JSON.parse((await r.lindex('queue:mail', 0))!).retry_count).toBe(4);
    const del = parseJson(await verk(['dead', 'delete', payloadIdentity('not json at all'), '--json', ...url()]));
    expect(del).toMatchObject({ done: 1 });
    expect(await r.zcard('dead')).toBe(0);
    await r.zadd('dead', now, 'x');
    expect(parseJson(await verk(['dead', 'clear', '--json', ...url()]))).toMatchObject({ action: 'clear', matched: 1, done: 1 });
  });

  it('an entry that is not valid UTF-8 is listed by its identity and deleted by its exact bytes', async () => {
    const bytes = Buffer.concat([Buffer.from('{"class":"C","args":["'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"],"jid":"x"}')]);
    await r.zadd('dead', now - 5, bytes);
    const id = payloadIdentity(bytes);
    expect(id).toMatch(/^[0-9a-f]{40}$/);
    const out = parseJson(await verk(['dead', 'list', '--json', ...url()]));
    expect(out.entries.find((e: { jid: string }) => e.jid === id)).toMatchObject({ malformed: true, error_message: 'payload is not valid UTF-8' });
    const del = parseJson(await verk(['dead', 'delete', id, '--json', ...url()]));
    expect(del).toMatchObject({ done: 1, skipped: [] });
    expect(await r.zcard('dead')).toBe(3);
    expect((await r.zrangeBuffer('dead', 0, -1)).some((m) => m.equals(bytes))).toBe(false);
  });
});

describe('schedule', () => {
  const s1 = 'e1'.repeat(12);
  beforeEach(async () => {
    await zadd(r, 'schedule', [
      [now + 3600, scheduledEntry({ jid: s1, args: '[{"id":1}]' })],
      [now + 60, scheduledEntry({ queue: 'mail' })],
    ]);
  });

  it('list --json and table: run time and creation, no error fields filled', async () => {
    const out = parseJson(await verk(['schedule', 'list', '--json', ...url()]));
    expect(out.count).toBe(2);
    expect(out.entries[1]).toEqual({
      jid: s1,
      class: 'MyJob',
      queue: 'default',
      args: '[{"id":1}]',
      at: now + 3600,
      error_class: null,
      error_message: null,
      retry_count: null,
      failed_at: null,
      retried_at: null,
      enqueued_at: null,
      created_at: 1795388709.9237423,
      malformed: false,
    });
    const table = await verk(['schedule', 'list', ...url()]);
    expect(table.stdout.split('\n')[0]).toMatch(/^JID\s+CLASS\s+QUEUE\s+ARGS\s+RUN AT\s+CREATED$/);
    expect(table.stdout).toMatch(new RegExp(`^${s1}\\s+MyJob\\s+default\\s+\\[\\{"id":1\\}\\]\\s+in (59m|1h)`, 'm'));
  });

  it('delete by jid; clear is not a schedule command (64)', async () => {
    expect(parseJson(await verk(['schedule', 'delete', s1, '--json', ...url()]))).toMatchObject({ set: 'schedule', done: 1, jids: [s1] });
    expect(await r.zcard('schedule')).toBe(1);
    expect((await verk(['schedule', 'clear', ...url()])).exitCode).toBe(64);
  });
});
