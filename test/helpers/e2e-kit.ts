// Small building blocks for the entrypoint e2e tests: handler directories, raw Sidekiq-shaped
// payloads, reading in-progress lists and node pids from Redis, HTTP probes, JSON log lines.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A temp project dir with jobs/<Name>.ts for each entry; returns the project dir. */
export function projectWithHandlers(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-e2e-'));
  fs.mkdirSync(path.join(dir, 'jobs'));
  for (const [name, src] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'jobs', `${name}.ts`), src);
  return dir;
}

/** Sleeps args[0] ms and ignores its signal. */
export const SLEEP_HANDLER = `export async function perform(args: unknown[]) { await new Promise((r) => setTimeout(r, Number(args[0]))); }\n`;

/** A Sidekiq-shaped job payload string (enqueue it with LPUSH queue:<q>). */
export function rawJob(cls: string, args: unknown[], extra: Record<string, unknown> = {}): string {
  const now = Date.now() / 1000;
  return JSON.stringify({ class: cls, args, queue: 'default', jid: randomBytes(12).toString('hex'), created_at: now, enqueued_at: now, retry: true, ...extra });
}

export async function enqueueRaw(redis: Redis, raws: string[], queue = 'default'): Promise<void> {
  await redis
    .multi()
    .sadd('queues', queue)
    .lpush(`queue:${queue}`, ...raws)
    .exec();
}

/** Every job in any in-progress list of the queue. */
export async function inProgress(redis: Redis, queue = 'default'): Promise<string[]> {
  const keys = await redis.keys(`inprogress:${queue}:*`);
  const lists = await Promise.all(keys.map((k) => redis.lrange(k, 0, -1)));
  return lists.flat();
}

/** Registered nodes with the pid and state their supervisor writes to verk:node:<id>:info. */
export async function registeredNodes(redis: Redis): Promise<{ id: string; pid: number; state: string }[]> {
  const ids = await redis.smembers('verk_nodes');
  return Promise.all(
    ids.map(async (id) => {
      const info = await redis.hgetall(`verk:node:${id}:info`);
      return { id, pid: Number(info.pid ?? 0), state: info.state ?? '' };
    }),
  );
}

/** True while the process exists and is not a zombie (an exited child nobody has reaped yet). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

export function httpGet(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
  });
}

/** JSON log lines of a process's combined output (other lines are skipped). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text.split('\n').flatMap((l) => {
    try {
      const v = JSON.parse(l) as unknown;
      return v && typeof v === 'object' ? [v as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/** Short intervals for e2e runs. */
export function fastArgs(redisUrl: string, extra: string[] = []): string[] {
  return [
    '--redis-url',
    redisUrl,
    '--heartbeat-interval',
    '100ms',
    '--node-ttl',
    '600ms',
    '--reaper-interval',
    '200ms',
    '--scheduler-interval',
    '100ms',
    '--log-format',
    'json',
    ...extra,
  ];
}
