// `verk queue list|delete|clear` and `verk schedule requeue` with the built binary against a
// private Redis: fetch order, --limit, --json shapes field by field, malformed members, delete
// by the exact stored bytes (a payload that is not valid UTF-8, duplicates), --dry-run changing
// nothing, clear as Sidekiq's Queue#clear, and a scheduled job moved to its queue now.
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { verk } from '../helpers/cli.js';
import { jid as newJid, parseJson, scheduledEntry } from '../helpers/admin-kit.js';

let server: RedisServer;
usePrivateRedis((s) => (server = s));
const url = () => ['--redis-url', server.url];
const enqueue = async (cls: string, ...args: string[]) => parseJson(await verk(['enqueue', cls, ...args, '--queue', 'mail', '--json', ...url()])).jid as string;

describe('verk queue list', () => {
  it('lists jobs in fetch order with --limit, malformed members by their sha1, and says when empty', async () => {
    const a = await enqueue('A', '1');
    const b = await enqueue('B', '{"x":[1,2]}');
    await server.client.lpush('queue:mail', 'not json');
    const r = await verk(['queue', 'list', 'mail', '--json', ...url()]);
    expect(r.exitCode).toBe(0);
    const rep = parseJson(r);
    expect(Object.keys(rep).sort()).toEqual(['count', 'entries', 'queue', 'size']);
    expect(rep).toMatchObject({ queue: 'mail', size: 3, count: 3 });
    const [ea, eb, em] = rep.entries;
    expect(Object.keys(ea).sort()).toEqual(['args', 'class', 'created_at', 'enqueued_at', 'jid', 'malformed', 'position']);
    expect(ea).toMatchObject({ position: 0, jid: a, class: 'A', args: '[1]', malformed: false });
    expect(ea.enqueued_at).toBeCloseTo(Date.now() / 1000, -2);
    expect(ea.created_at).toBe(ea.enqueued_at);
    expect(eb).toMatchObject({ position: 1, jid: b, class: 'B', args: '[{"x":[1,2]}]' });
    expect(em).toEqual({
      position: 2,
      jid: expect.stringMatching(/^[0-9a-f]{24}$/),
      class: null,
      args: 'not json',
      enqueued_at: null,
      created_at: null,
      malformed: true,
    });

    const lim = parseJson(await verk(['queue', 'list', 'mail', '--limit', '1', '--json', ...url()]));
    expect(lim).toMatchObject({ size: 3, count: 1 });
    expect(lim.entries[0].jid).toBe(a);
    const text = await verk(['queue', 'list', 'mail', ...url()]);
    expect(text.stdout).toMatch(/^#\s+JID\s+CLASS\s+ARGS\s+ENQUEUED/);
    expect(text.stdout).toMatch(/3 of 3 jobs in queue mail/);
    expect((await verk(['queue', 'list', 'nothing', ...url()])).stdout).toBe('queue nothing is empty');
    expect((await verk(['queue', 'list', 'mail', '--limit', 'ten', ...url()])).exitCode).toBe(64);
    expect((await verk(['queue', 'list', 'a b', ...url()])).exitCode).toBe(64);
  });
});

describe('verk queue delete', () => {
  it('removes the exact stored bytes (not valid UTF-8, every copy); --dry-run changes nothing; a missing jid exits 1', async () => {
    const keep = await enqueue('Keep');
    const bin = Buffer.concat([Buffer.from('{"class":"Bin","jid":"bin1","args":["'), Buffer.from([0xff, 0xfe]), Buffer.from('"]}')]);
    await server.client.lpush('queue:mail', bin, bin);
    const del = await enqueue('Del');

    const dry = parseJson(await verk(['queue', 'delete', 'mail', 'bin1', del, '--dry-run', '--json', ...url()]));
    expect(dry).toEqual({ queue: 'mail', action: 'delete', dry_run: true, matched: 2, done: 0, jids: ['bin1', del], missing: [] });
    expect(await server.client.llen('queue:mail')).toBe(4);

    const r = await verk(['queue', 'delete', 'mail', 'bin1', del, '--json', ...url()]);
    expect(r.exitCode).toBe(0);
    const res = parseJson(r);
    // matched counts distinct payloads; done counts copies removed (bin1 was there twice).
    expect(res).toEqual({ queue: 'mail', action: 'delete', dry_run: false, matched: 2, done: 3, jids: ['bin1', del], missing: [] });
    // The bytes 0xff 0xfe are gone from Redis, not just a UTF-8-mangled look-alike.
    expect((await server.client.lrangeBuffer('queue:mail', 0, -1)).some((b) => b.includes(Buffer.from([0xff, 0xfe])))).toBe(false);
    const left = (await server.client.lrange('queue:mail', 0, -1)).map((p) => JSON.parse(p).jid);
    expect(left).toEqual([keep]);

    const miss = await verk(['queue', 'delete', 'mail', 'nope', keep, ...url()]);
    expect(miss.exitCode).toBe(1);
    expect(miss.stdout).toMatch(/deleted 1 job of queue mail/);
    expect(miss.stderr).toMatch(/not found in queue mail: nope/);
    expect(await server.client.llen('queue:mail')).toBe(0);
  });
});

describe('verk queue clear', () => {
  it('--dry-run counts; clear unlinks the list and drops the name from queues, as Sidekiq', async () => {
    await enqueue('A');
    await enqueue('B');
    const dry = parseJson(await verk(['queue', 'clear', 'mail', '--dry-run', '--json', ...url()]));
    expect(dry).toEqual({ queue: 'mail', action: 'clear', dry_run: true, matched: 2, done: 0, jids: [] });
    expect(await server.client.llen('queue:mail')).toBe(2);
    expect((await verk(['queue', 'clear', 'mail', '--dry-run', ...url()])).stdout).toBe('dry run: would clear 2 jobs of queue mail');
    const r = await verk(['queue', 'clear', 'mail', '--json', ...url()]);
    expect(parseJson(r)).toEqual({ queue: 'mail', action: 'clear', dry_run: false, matched: 2, done: 2, jids: [] });
    expect(await server.client.exists('queue:mail')).toBe(0);
    expect(await server.client.sismember('queues', 'mail')).toBe(0);
  });
});

describe('verk schedule requeue', () => {
  it('moves a scheduled job to its queue now (other bytes kept), and --all the rest; a second requeue finds nothing', async () => {
    const j1 = newJid();
    const j2 = newJid();
    const e1 = scheduledEntry({ jid: j1, queue: 'mail', args: '[12345678901234567890]' });
    await server.client.zadd('schedule', Date.now() / 1000 + 3600, e1, Date.now() / 1000 + 7200, scheduledEntry({ jid: j2 }));
    const r = await verk(['schedule', 'requeue', j1, '--json', ...url()]);
    expect(r.exitCode).toBe(0);
    expect(parseJson(r)).toEqual({ set: 'schedule', action: 'requeue', dry_run: false, matched: 1, done: 1, jids: [j1], skipped: [], missing: [] });
    const [moved] = await server.client.lrange('queue:mail', 0, -1);
    expect(moved.startsWith(e1.slice(0, -1))).toBe(true); // every byte kept, enqueued_at added
    expect(JSON.parse(moved).enqueued_at).toBeCloseTo(Date.now() / 1000, -2);
    expect(await server.client.sismember('queues', 'mail')).toBe(1);
    expect(await server.client.zcard('schedule')).toBe(1);

    const all = parseJson(await verk(['schedule', 'requeue', '--all', '--json', ...url()]));
    expect(all).toMatchObject({ matched: 1, done: 1, jids: [j2] });
    expect(await server.client.llen('queue:default')).toBe(1);
    // A scheduled entry that carries a retry_count keeps it (Sidekiq's add_to_queue).
    const j3 = newJid();
    await server.client.zadd('schedule', Date.now() / 1000 + 3600, scheduledEntry({ jid: j3 }).replace(/}$/, ',"retry_count":2}'));
    expect((await verk(['schedule', 'requeue', j3, ...url()])).exitCode).toBe(0);
    const [rerun] = await server.client.lrange('queue:default', 0, 0);
    expect(JSON.parse(rerun)).toMatchObject({ jid: j3, retry_count: 2 });
    const again = await verk(['schedule', 'requeue', j1, ...url()]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/not found in schedule: /);
  });
});
