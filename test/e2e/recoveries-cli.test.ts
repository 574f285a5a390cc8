// `verk recoveries` on fabricated history entries (cjson's {} for empty jid lists normalised to
// []) and on the entries a real `requeue-dead` pass writes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { verk } from '../helpers/cli.js';
import { fabricateNode, job } from '../helpers/fabricate.js';
import { makeKeys } from '../../src/redis/keys.js';

let server: RedisServer;
let cwd: string;
const keys = makeKeys('');
const run = (args: string[]) => verk([...args, '--redis-url', server.url], { cwd });

beforeAll(async () => {
  server = await startRedis();
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-recoveries-'));
  const r = server.client;
  // Oldest first (LPUSH puts the newest at the head, as the reap script does).
  await r.lpush(
    keys.recoveries,
    '{"at":1700000000.25,"by":"web-1-supervisor-42","node":"web-2-aa","moved":2,"dead":0,"queues":{"default":2},"jids":["j1","j2"],"dead_jids":{}}',
    'not json',
    '{"at":1700000100.5,"by":"cli:ops","node":"web-3-bb","moved":0,"dead":1,"queues":{"mail":1},"jids":{},"dead_jids":["p9"]}',
  );
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(cwd, { recursive: true, force: true });
});

describe('verk recoveries', () => {
  it('--json returns events newest first with {} normalised to []', async () => {
    const res = await run(['recoveries', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({
      total: 3,
      unreadable: 1,
      events: [
        { at: 1700000100.5, at_iso: '2023-11-14T22:15:00.500Z', by: 'cli:ops', node: 'web-3-bb', moved: 0, dead: 1, queues: { mail: 1 }, jids: [], dead_jids: ['p9'] },
        {
          at: 1700000000.25,
          at_iso: '2023-11-14T22:13:20.250Z',
          by: 'web-1-supervisor-42',
          node: 'web-2-aa',
          moved: 2,
          dead: 0,
          queues: { default: 2 },
          jids: ['j1', 'j2'],
          dead_jids: [],
        },
      ],
    });
  });

  it('--limit bounds the events read; the table shows them', async () => {
    const out = JSON.parse((await run(['recoveries', '--limit', '1', '--json'])).stdout);
    expect(out.total).toBe(3);
    expect(out.events.map((e: { node: string }) => e.node)).toEqual(['web-3-bb']);
    const res = await run(['recoveries']);
    expect(res.stdout).toMatch(/^AT\s+BY\s+NODE\s+REQUEUED\s+DEAD\s+QUEUES\s+JIDS\s+DEAD JIDS$/m);
    expect(res.stdout).toMatch(/^2023-11-14 22:13:20Z\s+web-1-supervisor-42\s+web-2-aa\s+2\s+0\s+default:2\s+j1,j2\s+-$/m);
    expect(res.stdout).toContain('2 of 3 events (1 unreadable skipped)');
    expect((await run(['recoveries', '--limit', 'x'])).exitCode).toBe(64);
  });

  it('shows the event a requeue-dead pass records', async () => {
    await fabricateNode(server.client, keys, { id: 'dead-5', inprogress: { default: [job('r1'), job('r2')] } });
    expect((await run(['requeue-dead'])).exitCode).toBe(0);
    const out = JSON.parse((await run(['recoveries', '--limit', '1', '--json'])).stdout);
    expect(out.total).toBe(4);
    expect(out.events[0]).toMatchObject({ by: `cli:${os.hostname()}`, node: 'dead-5', moved: 2, dead: 0, queues: { default: 2 }, jids: ['r1', 'r2'], dead_jids: [] });
  });
});
