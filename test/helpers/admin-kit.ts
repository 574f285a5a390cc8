// Helpers for the admin command tests: Sidekiq-shaped entries for retry/dead/schedule, a temp
// handler directory whose modules can reach the repo's ioredis, and parsing --json output.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export const jid = () => randomBytes(12).toString('hex');

/** A failed job as Sidekiq writes it to retry/dead (reference §3), with overridable fields. */
export function failedEntry(
  o: { jid?: string; class?: string; queue?: string; args?: string; retryCount?: number; failedAt?: number; retriedAt?: number; error?: string; extra?: string } = {},
): string {
  const parts = [
    `"retry":5`,
    `"queue":${JSON.stringify(o.queue ?? 'default')}`,
    `"args":${o.args ?? '["a",1]'}`,
    `"class":${JSON.stringify(o.class ?? 'FailingJob')}`,
    `"jid":${JSON.stringify(o.jid ?? jid())}`,
    `"created_at":1795389061.3695548`,
    `"enqueued_at":1795389061.3695781`,
    `"error_message":${JSON.stringify(o.error ?? 'boom')}`,
    `"error_class":"ArgumentError"`,
    `"failed_at":${o.failedAt ?? 1795389061.806667}`,
    `"retry_count":${o.retryCount ?? 0}`,
  ];
  if (o.retriedAt !== undefined) parts.push(`"retried_at":${o.retriedAt}`);
  if (o.extra) parts.push(o.extra);
  return `{${parts.join(',')}}`;
}

/** A scheduled job as Sidekiq writes it (no enqueued_at). */
export function scheduledEntry(o: { jid?: string; class?: string; queue?: string; args?: string } = {}): string {
  return `{"retry":true,"queue":${JSON.stringify(o.queue ?? 'default')},"class":${JSON.stringify(o.class ?? 'MyJob')},"args":${o.args ?? '[2]'},"jid":${JSON.stringify(o.jid ?? jid())},"created_at":1795388709.9237423}`;
}

export async function zadd(redis: Redis, key: string, entries: [number, string][]): Promise<void> {
  if (entries.length) await redis.zadd(key, ...entries.flat());
}

/** A temp dir with the given handler modules (.mjs); `ioredis` is loaded from the repo. */
export function handlerDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-admin-'));
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, `${name}.mjs`), body);
  return dir;
}

/** Module prelude giving a handler `redis`, connected to TEST_REDIS_URL. */
export const REDIS_PRELUDE = `import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(path.join(REPO, 'package.json'))});
const { Redis } = require('ioredis');
const redis = new Redis(process.env.TEST_REDIS_URL, { maxRetriesPerRequest: null });
`;

export function parseJson<T = Record<string, any>>(r: { stdout: string; stderr: string; exitCode?: number }): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.exitCode}): ${r.stdout}\n${r.stderr}`);
  }
}

/** n Sidekiq-shaped jobs of one class for LPUSH queue:<queue>. */
export function rawJobs(cls: string, queue: string, n: number, argsJson = '[]'): string[] {
  const now = Date.now() / 1000;
  return Array.from(
    { length: n },
    () => `{"retry":true,"queue":${JSON.stringify(queue)},"class":${JSON.stringify(cls)},"args":${argsJson},"jid":"${jid()}","created_at":${now},"enqueued_at":${now}}`,
  );
}
