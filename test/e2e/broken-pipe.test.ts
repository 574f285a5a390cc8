// Broken pipes with the built CLI and real pipes (issue 10 item 10): read commands whose stdout
// reader goes away exit 0 without a stack trace; `verk work` whose stderr reader is gone neither
// spins its worker processes nor crashes, and its workers still exit once the supervisor is
// killed with -9 (no orphan left behind).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { VERK_BIN } from '../helpers/cli.js';
import { intervalArgs, usePrivateRedis } from '../helpers/e2e.js';
import { enqueueRaw, pidAlive, projectWithHandlers, rawJob, registeredNodes } from '../helpers/e2e-kit.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

let server: RedisServer;
let redis: Redis;
usePrivateRedis((s) => {
  server = s;
  redis = s.client;
});

/** Runs verk with stdout (and stderr) pipes; destroys the reading end of `closed` at its first byte. */
function runClosingPipe(
  args: string[],
  closed: 'stdout' | 'stderr',
): { proc: ChildProcess; exit: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const proc = spawn('node', [VERK_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' }, detached: closed === 'stderr' });
  let stderr = '';
  if (closed === 'stdout') {
    proc.stdout!.once('data', () => proc.stdout!.destroy());
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  } else {
    proc.stderr!.once('data', () => {
      proc.stderr!.destroy();
      proc.stdout!.destroy();
    });
  }
  const exit = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { proc, exit };
}

/** utime + stime of a process in seconds (/proc/<pid>/stat fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // CLK_TCK is 100 on Linux
}

describe('a closed stdout pipe ends read commands quietly', () => {
  it('verk stats: exit 0, no stack trace, when the reader goes away after the first byte', async () => {
    // Enough queues that the table is far larger than a pipe's buffer (64 KiB): writes hit EPIPE.
    const names = Array.from({ length: 3000 }, (_, i) => `queue-with-a-long-name-${String(i).padStart(5, '0')}`);
    const pipe = redis.pipeline();
    for (const q of names) pipe.sadd('queues', q).lpush(`queue:${q}`, rawJob('Count', [], { queue: q }));
    await pipe.exec();
    const { exit } = runClosingPipe(['stats', '--redis-url', server.url], 'stdout');
    const res = await exit;
    console.log(`[measured] verk stats into a closed pipe: exit ${res.code}, signal ${res.signal}, stderr ${res.stderr.length} bytes`);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });

  it('verk retry list with many entries: exit 0, no stack trace', async () => {
    const pipe = redis.pipeline();
    for (let i = 0; i < 3000; i++)
      pipe.zadd(
        'retry',
        Date.now() / 1000 + 3600,
        rawJob('Fail', [i, 'x'.repeat(100)], { error_class: 'TypeError', error_message: 'failing on purpose', retry_count: 0 }),
      );
    await pipe.exec();
    const { exit } = runClosingPipe(['retry', 'list', '--limit', '0', '--redis-url', server.url], 'stdout');
    const res = await exit;
    console.log(`[measured] verk retry list into a closed pipe: exit ${res.code}, signal ${res.signal}, stderr ${res.stderr.length} bytes`);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });
});

describe('verk work with its log in a closed pipe', () => {
  it('worker processes do not spin on failed writes, and exit after the supervisor is killed with -9', async () => {
    // Each job logs every 20 ms until aborted: a steady stream of writes into the dead pipe.
    const dir = projectWithHandlers({
      Chatty: `export async function perform(args: unknown[], ctx: any) {
  while (!ctx.signal.aborted) { ctx.log.info('chatty job still running ' + 'x'.repeat(200)); await new Promise((r) => setTimeout(r, 20)); }
}\n`,
    });
    const { proc } = runClosingPipe(
      [
        'work',
        '--redis-url',
        server.url,
        '--handlers',
        `${dir}/jobs`,
        '--log-format',
        'json',
        '--processes',
        '2',
        '--queues',
        'default:1',
        ...intervalArgs(),
        '--shutdown-timeout',
        '2s',
      ],
      'stderr',
    );
    const supervisor = proc.pid!;
    try {
      await enqueueRaw(redis, [rawJob('Chatty', []), rawJob('Chatty', [])]);
      const nodes = await waitFor(
        async () => {
          const n = (await registeredNodes(redis)).filter((x) => x.pid > 0);
          const busy = (await redis.keys('inprogress:default:*')).length;
          return n.length === 2 && busy === 2 ? n : undefined;
        },
        { timeoutMs: 20_000, what: 'two worker processes each running a chatty job' },
      );
      const pids = nodes.map((n) => n.pid);
      const before = pids.map(cpuSeconds);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 2000)); // the measurement window
      const wall = (Date.now() - t0) / 1000;
      const used = pids.map((p, i) => cpuSeconds(p) - before[i]);
      console.log(`[measured] worker CPU over ${wall.toFixed(1)} s with a closed log pipe: ${used.map((u) => `${((u / wall) * 100).toFixed(1)} %`).join(', ')}`);
      for (const u of used) expect(u).toBeLessThan(0.1 * wall);
      expect(pidAlive(supervisor), 'the supervisor survived its broken log pipe').toBe(true);

      process.kill(supervisor, 'SIGKILL');
      const killedAt = Date.now();
      await waitFor(() => pids.every((p) => !pidAlive(p)), { timeoutMs: 15_000, what: 'orphaned worker processes to exit' });
      console.log(`[measured] orphaned workers exited ${Date.now() - killedAt} ms after kill -9 of the supervisor`);
    } finally {
      try {
        process.kill(-supervisor, 'SIGKILL');
      } catch {
        /* gone */
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
