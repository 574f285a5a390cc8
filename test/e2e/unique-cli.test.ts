// Unique jobs through the built CLI (docs/unique-jobs.md): `verk enqueue` honours the handler's
// options.unique (a duplicate prints the owner's jid, `enqueued: false` under --json; --no-unique
// enqueues anyway), `verk unique why|list`, `verk show` naming the lock, `verk work` releasing it
// when the job is done or as it starts; bad options exit 78 naming the file and the field, a key
// function that throws exits 1 naming the class, and nothing is enqueued.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { signalGroup, startWorker, verk } from '../helpers/cli.js';
import { parseJson } from '../helpers/admin-kit.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const JOBS = path.join(FIXTURES, 'unique-jobs');
const BAD = path.join(FIXTURES, 'unique-bad');

let server: RedisServer;
usePrivateRedis((s) => (server = s));
const url = () => ['--redis-url', server.url];
const enqueue = async (handlers: string, cls: string, args: string[], extra: string[] = []) =>
  verk(['enqueue', cls, ...args, '--handlers', handlers, '--json', ...extra, ...url()]);

describe('verk enqueue with a unique handler', () => {
  it('enqueues once per key, returns the owner to a duplicate, and why/list/show name the lock', async () => {
    const a = parseJson(await enqueue(JOBS, 'Rebuild', ['7', '0']));
    expect(a).toMatchObject({ enqueued: true, unique: true });
    const dup = await enqueue(JOBS, 'Rebuild', ['7', '0']);
    expect(dup.exitCode).toBe(0);
    expect(parseJson(dup)).toMatchObject({ jid: a.jid, enqueued: false });
    const plain = await verk(['enqueue', 'Rebuild', '7', '0', '--handlers', JOBS, ...url()]);
    expect(plain.stdout.trim()).toBe(a.jid);
    expect(plain.stderr).toMatch(`not enqueued: job ${a.jid} holds the unique lock of Rebuild`);
    expect(await server.client.llen('queue:default')).toBe(1);

    const why = parseJson(await verk(['unique', 'why', 'account:7', '--json', ...url()]));
    expect(why).toMatchObject({ key: 'account:7', holder: a.jid, where: 'queue', until: 'done', queue: 'default' });
    expect(Date.parse(why.since_iso)).toBeGreaterThan(Date.now() - 60_000);
    const human = await verk(['unique', 'why', 'account:7', ...url()]);
    expect(human.stdout).toMatch(/holder\s+\S+\nwhere\s+waiting in its queue/);
    const list = parseJson(await verk(['unique', 'list', '--json', ...url()]));
    expect(list.locks).toEqual([expect.objectContaining({ key: 'account:7', holder: a.jid })]);
    const show = parseJson(await verk(['show', a.jid, '--json', ...url()]));
    expect(show.matches[0].unique).toEqual({ key: 'account:7', until: 'done', holder: a.jid });
    expect((await verk(['show', a.jid, ...url()])).stdout).toMatch(/unique\s+account:7 \(until done; holds the lock\)/);
    const none = await verk(['unique', 'why', 'account:8', ...url()]);
    expect(none.exitCode).toBe(1);
    expect(none.stdout).toMatch('no unique lock "account:8"');

    // --no-unique: the option is ignored, the job goes in beside the owner.
    expect(parseJson(await enqueue(JOBS, 'Rebuild', ['7', '0'], ['--no-unique']))).toMatchObject({ enqueued: true });
    expect(await server.client.llen('queue:default')).toBe(2);
  });

  it('verk work releases an until-done lock at the ack and an until-started lock as the job starts', async () => {
    const a = parseJson(await enqueue(JOBS, 'Rebuild', ['1', '0']));
    const s = parseJson(await enqueue(JOBS, 'Started', ['2', '3000']));
    const w = startWorker(['--redis-url', server.url, '--handlers', JOBS, '--processes', '1', '--log-format', 'json'], { env: { TEST_REDIS_URL: server.url } });
    try {
      await waitFor(async () => (await server.client.get('verk:unique:account:1')) === null, { timeoutMs: 15_000, what: 'the until-done lock released' });
      // The Started job is still running (3 s) but its lock went at its start: a second one goes in.
      const events = async () => (await server.client.lrange('test:leases', 0, -1)).map((e) => JSON.parse(e) as { ev: string; jid: string });
      await waitFor(async () => (await events()).some((e) => e.ev === 'start' && e.jid === s.jid), { timeoutMs: 15_000, what: 'Started began' });
      expect(await server.client.get('verk:unique:Started:args[0]=2')).toBeNull();
      expect((await events()).some((e) => e.ev === 'end' && e.jid === s.jid)).toBe(false);
      expect(parseJson(await enqueue(JOBS, 'Started', ['2', '0']))).toMatchObject({ enqueued: true });
      expect((await events()).some((e) => e.ev === 'end' && e.jid === a.jid)).toBe(true);
      expect(parseJson(await enqueue(JOBS, 'Rebuild', ['1', '0']))).toMatchObject({ enqueued: true });
    } finally {
      signalGroup(w.pid!, 'SIGTERM');
      await w;
    }
  }, 60_000);

  it('bad options exit 78 naming the file and the field; a key function that throws exits 1 naming the class; nothing is enqueued', async () => {
    const bad = await enqueue(BAD, 'Until', ['1']);
    expect(bad.exitCode).toBe(78);
    expect(bad.stderr).toMatch(/Until\.js/);
    expect(bad.stderr).toMatch(/options\.unique\.until "finished" must be 'started', 'done' or \{ ttl: '10m' \}/);
    const throws = await enqueue(BAD, 'KeyThrows', []);
    expect(throws.exitCode).toBe(1);
    expect(throws.stderr).toMatch(/KeyThrows: options\.unique\.key threw: no account given/);
    expect(await server.client.dbsize()).toBe(0);
    expect(parseJson(await enqueue(BAD, 'KeyThrows', ['5']))).toMatchObject({ enqueued: true });
  });
});
