// Typos the CLI refuses or warns about, with the built binary against a private Redis:
// `verk enqueue` refuses an argument that looks like JSON but does not parse (exit 64, the
// parser's message, a --raw hint) and a class name no handler can have; `--raw` sends strings;
// `verk pause` of a queue nobody ever used warns with the closest known queue and still pauses.
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { verk } from '../helpers/cli.js';
import { parseJson } from '../helpers/admin-kit.js';

let server: RedisServer;
usePrivateRedis((s) => (server = s));
const url = () => ['--redis-url', server.url];
const queued = async (q = 'default') => (await server.client.lrange(`queue:${q}`, 0, -1)).map((p) => JSON.parse(p));

describe('verk enqueue refuses what cannot be meant', () => {
  it('an argument that starts like JSON but does not parse: exit 64, the parser message, a --raw hint, nothing stored', async () => {
    for (const bad of ['{"user":42', '[1,2', '"unterminated']) {
      const r = await verk(['enqueue', 'Foo', 'ok', bad, ...url()]);
      expect(r.exitCode, bad).toBe(64);
      expect(r.stderr).toMatch(/argument 2 looks like JSON but does not parse: /);
      expect(r.stderr).toMatch(/JSON/); // the parser's own message follows
      expect(r.stderr).toContain(bad);
      expect(r.stderr).toMatch(/--raw/);
    }
    expect(await server.client.exists('queue:default', 'queues')).toBe(0);
  });

  it('keeps valid JSON byte for byte and plain words as strings; --raw sends everything as strings', async () => {
    expect((await verk(['enqueue', 'Foo', '{"user":42}', '7', 'hello', ...url()])).exitCode).toBe(0);
    expect((await verk(['enqueue', 'Foo', '--raw', '{"user":42', '7', ...url()])).exitCode).toBe(0);
    const [raw, parsed] = await queued();
    expect(parsed.args).toEqual([{ user: 42 }, 7, 'hello']);
    expect(raw.args).toEqual(['{"user":42', '7']);
  });

  it('refuses class names with spaces, slashes, .. or empty segments (exit 64), accepts handler, Ruby and Elixir names', async () => {
    for (const bad of ['Foo Bar', '../etc/passwd', 'a/b', 'Foo..Bar', '.Foo', 'Foo.', '', 'Foo:Bar']) {
      const r = await verk(['enqueue', bad, ...url()]);
      expect(r.exitCode, JSON.stringify(bad)).toBe(64);
      expect(r.stderr).toMatch(/is not a job class name/);
    }
    expect(await server.client.exists('queue:default')).toBe(0);
    for (const good of ['Foo', 'Mailers.Welcome', 'Mailers::Welcome', 'Elixir.Mailers.Welcome', 'send-email', 'v2_Jobs.Do']) {
      const r = await verk(['enqueue', good, '--json', ...url()]);
      expect(r.exitCode, good).toBe(0);
      expect(parseJson(r).class).toBe(good);
    }
  });
});

describe('verk pause of a queue nobody used', () => {
  it('warns on stderr with the closest known queue and still pauses (exit 0)', async () => {
    expect((await verk(['enqueue', 'Foo', '--queue', 'mailers', ...url()])).exitCode).toBe(0);
    const r = await verk(['pause', 'mailer', '--json', ...url()]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/warning: no job was ever enqueued to queue mailer; pausing it anyway — did you mean mailers\?/);
    expect(parseJson(r)).toEqual({ queue: 'mailer', paused: true, changed: true });
    expect(await server.client.smembers('verk:paused')).toEqual(['mailer']);
  });

  it('does not warn for a queue that exists in any form (queues set, list, counters, a node fetching it)', async () => {
    await server.client.sadd('queues', 'a');
    await server.client.lpush('queue:b', '{}');
    await server.client.set('stat:processed:c', '3');
    await server.client.sadd('verk_nodes', 'n1');
    await server.client.sadd('verk:node:n1:queues', 'd');
    for (const q of ['a', 'b', 'c', 'd']) {
      const r = await verk(['pause', q, ...url()]);
      expect(r.exitCode).toBe(0);
      expect(r.stderr, q).toBe('');
    }
    const fresh = await verk(['pause', 'zzz', ...url()]);
    expect(fresh.stderr).toMatch(/no job was ever enqueued to queue zzz; pausing it anyway/);
    // A queue that is already paused counts as used: no warning the second time.
    expect((await verk(['pause', 'zzz', ...url()])).stderr).toBe('');
  });
});
