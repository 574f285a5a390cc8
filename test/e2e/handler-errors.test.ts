// Handler load errors with the built CLI: a job whose handler file failed to load fails with
// error_class HandlerLoadError naming the file and the load error (not UnknownJobClass), while a
// class no file provides still fails as UnknownJobClass; the other handlers keep working.
import fs from 'node:fs';
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
});
