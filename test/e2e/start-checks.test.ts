// What `verk work` refuses or warns about at start, with the built binary: two handler files
// for one class exit 78 naming both before any worker starts; an evicting Redis gets a warning
// in the log and in /readyz; a database the server does not have exits 78 with nothing written.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { freePort } from '../helpers/redis-server.js';
import { startWorker, signalGroup, verk } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { fastArgs, httpGet, jsonLines, projectWithHandlers, SLEEP_HANDLER } from '../helpers/e2e-kit.js';
import { usePrivateRedis } from '../helpers/e2e.js';

let server: RedisServer;
usePrivateRedis((s) => (server = s));

it('two handler files for one class: exit 78 naming both, no node registered', async () => {
  const dir = projectWithHandlers({ Foo: SLEEP_HANDLER });
  fs.writeFileSync(path.join(dir, 'jobs', 'Foo.js'), 'export function perform() {}\n');
  const r = await verk(['work', ...fastArgs(server.url, ['-p', '1'])], { cwd: dir });
  expect(r.exitCode).toBe(78);
  expect(r.stderr).toMatch(/Foo\.js/);
  expect(r.stderr).toMatch(/Foo\.ts/);
  expect(await server.client.scard('verk_nodes')).toBe(0);
});

it('an evicting Redis: a warning at start and in /readyz', async () => {
  await server.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
  const dir = projectWithHandlers({ Sleep: SLEEP_HANDLER });
  const port = await freePort();
  const w = startWorker(fastArgs(server.url, ['-p', '1', '--health-port', String(port)]), { cwd: dir });
  try {
    const ready = await waitFor(
      async () => {
        const res = await httpGet(port, '/readyz');
        return res.status === 200 ? (JSON.parse(res.body) as Record<string, unknown>) : undefined;
      },
      { what: '/readyz 200', timeoutMs: 15_000 },
    );
    expect(ready.redis_maxmemory_policy).toBe('allkeys-lru');
    expect(String((ready.warnings as string[])[0])).toMatch(/noeviction/);
  } finally {
    signalGroup(w.pid!, 'SIGTERM');
    const res = await w;
    await server.client.config('SET', 'maxmemory-policy', 'noeviction');
    const warn = jsonLines(String(res.all ?? '')).find((l) => l.level === 'warn' && l.maxmemory_policy === 'allkeys-lru');
    expect(warn, String(res.all)).toBeDefined();
  }
});

it('a database the server does not have: exit 78 before anything is written', async () => {
  const dir = projectWithHandlers({ Sleep: SLEEP_HANDLER });
  const url = server.url.replace(/\/0$/, '/99');
  const r = await verk(['work', ...fastArgs(url, ['-p', '1'])], { cwd: dir, timeout: 20_000 });
  expect(r.exitCode).toBe(78);
  expect(r.stderr).toMatch(/database 99 (does not exist|was refused)/);
  expect(await server.client.dbsize()).toBe(0);
});
