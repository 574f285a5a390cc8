// Handler load errors with the built CLI: a job whose handler file failed to load fails with
// error_class HandlerLoadError naming the file and the load error (not UnknownJobClass), while a
// class no file provides still fails as UnknownJobClass; the other handlers keep working. A syntax
// error is reported as file:line:column and the message, in the log and in the jobs' error.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { signalGroup, startWorker } from '../helpers/cli.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { SLEEP_HANDLER, enqueueRaw, fastArgs, projectWithHandlers, rawJob } from '../helpers/e2e-kit.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

let server: RedisServer;
let redis: Redis;
usePrivateRedis((s) => {
  server = s;
  redis = s.client;
});

describe('handler load errors', () => {
  it('jobs of a class whose file failed to load go to retry as HandlerLoadError with the file and the error', async () => {
    const dir = projectWithHandlers({ Broken: 'throw new Error("kaboom at import");\nexport function perform() {}\n', Sleep: SLEEP_HANDLER });
    const worker = startWorker(fastArgs(server.url, ['-p', '1', '-q', 'default:4']), { cwd: dir });
    try {
      const broken = rawJob('Broken', []);
      const unknown = rawJob('Nobody.Home', []);
      const fine = rawJob('Sleep', [1]);
      await enqueueRaw(redis, [broken, unknown, fine]);
      const entries = await waitFor(
        async () => {
          const r = (await redis.zrange('retry', 0, -1)).map((x) => JSON.parse(x) as Record<string, unknown>);
          return r.length === 2 ? r : undefined;
        },
        { timeoutMs: 20_000, what: 'two failed jobs in retry' },
      );
      const byJid = Object.fromEntries(entries.map((e) => [e.jid, e]));
      const b = byJid[JSON.parse(broken).jid];
      expect(b.error_class).toBe('HandlerLoadError');
      expect(b.error_message).toContain(`${fs.realpathSync(dir)}/jobs/Broken.ts`);
      expect(b.error_message).toContain('kaboom at import');
      expect(byJid[JSON.parse(unknown).jid]).toMatchObject({ error_class: 'UnknownJobClass' });
      await waitFor(async () => (await redis.llen('queue:default')) === 0 && (await redis.keys('inprogress:*')).length === 0, { what: 'the Sleep job done' });
      expect(await redis.get('stat:failed')).toBe('2');
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
      await worker;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);

  it("a .ts and a .js handler with syntax errors: the log line and the jobs' error name file:line:column and the message", async () => {
    const dir = fs.realpathSync(projectWithHandlers({ TypoTs: 'export function perform(args: unknown[]): number {\n  return args.length +;\n}\n' }));
    const jsFile = path.join(dir, 'jobs', 'TypoJs.js');
    fs.writeFileSync(jsFile, 'export function perform(args) {\n  return args[0] +;\n}\n');
    const detail = {
      TypoTs: `${path.join(dir, 'jobs', 'TypoTs.ts')}:2:23 Unexpected ";"`,
      TypoJs: `${jsFile}:2:19 Unexpected token ';'`,
    };
    const worker = startWorker(fastArgs(server.url, ['-p', '1', '-q', 'default:4']), { cwd: dir });
    try {
      const jobs = { TypoTs: rawJob('TypoTs', []), TypoJs: rawJob('TypoJs', []) };
      await enqueueRaw(redis, Object.values(jobs));
      const entries = await waitFor(
        async () => {
          const r = (await redis.zrange('retry', 0, -1)).map((x) => JSON.parse(x) as Record<string, unknown>);
          return r.length === 2 ? r : undefined;
        },
        { timeoutMs: 20_000, what: 'both jobs in retry' },
      );
      for (const [cls, raw] of Object.entries(jobs) as [keyof typeof jobs, string][]) {
        const entry = entries.find((e) => e.jid === JSON.parse(raw).jid);
        const file = detail[cls].slice(0, detail[cls].indexOf(':'));
        expect(entry).toMatchObject({ error_class: 'HandlerLoadError', error_message: `handler file ${file} failed to load: ${detail[cls]}` });
      }
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
    }
    const logged = String((await worker).all ?? '')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.level === 'error' && String(l.msg).startsWith('handler module failed to load'))
      .map((l) => l.error);
    expect(logged.sort()).toEqual(Object.values(detail).sort());
    fs.rmSync(dir, { recursive: true, force: true });
  }, 40_000);
});
