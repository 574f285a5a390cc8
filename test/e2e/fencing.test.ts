// Fencing end to end: a node frozen with SIGSTOP past its TTL is reaped while its jobs are
// finished by others; when it resumes (SIGCONT) its late acks are refused and counted, no job
// is both queued and in `retry`, and the node replaces itself with a fresh id.
import { expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { startWorker, signalGroup } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { executions, doneCount, workArgs, workEnv, usePrivateRedis } from '../helpers/e2e.js';
import type { Client } from '../../src/api/client.js';

let server: RedisServer;
let client: Client;
usePrivateRedis((s, c) => ([server, client] = [s, c]));

it('SIGSTOP past the TTL, then SIGCONT: jobs finished elsewhere, late acks refused, node replaced', async () => {
  // The frozen node takes the first 4 slow jobs; the healthy node starts after the freeze.
  const jids = await client.enqueueBulk(Array.from({ length: 4 }, () => ({ class: 'Count', args: [{ sleepMs: 2500 }] })));
  const frozen = startWorker(workArgs(server, ['--queues', 'default:4', '--processes', '1']), { env: workEnv(server) });
  let frozenLog = '';
  frozen.all?.on('data', (d: Buffer) => (frozenLog += d.toString()));
  let healthy: ReturnType<typeof startWorker> | undefined;
  try {
    const [node] = await waitFor(() => server.client.smembers('verk_nodes').then((n) => (n.length ? n : null)), { what: 'the first node' });
    await waitFor(async () => (await server.client.llen(`inprogress:default:${node}`)) === 4, { what: 'the first node to hold 4 jobs' });
    signalGroup(frozen.pid!, 'SIGSTOP');
    const stoppedAt = Date.now();
    healthy = startWorker(workArgs(server, ['--queues', 'default:4', '--processes', '1']), { env: workEnv(server) });
    await waitFor(async () => (await doneCount(server.client)) === 4, { what: 'the healthy node to finish the 4 jobs', timeoutMs: 15_000 });
    const takeoverMs = Date.now() - stoppedAt;
    expect(await server.client.sismember('verk_nodes', node)).toBe(0);
    signalGroup(frozen.pid!, 'SIGCONT');
    // The resumed node's handlers finish and try to ack: refused, counted; the node fences itself.
    const fenced = Number(
      await waitFor(() => server.client.get('verk:stat:fenced'), { what: 'a fencing rejection', timeoutMs: 10_000 }).catch((err: Error) => {
        // What the resumed node did instead (a flake seen once under load: kept for the next one).
        throw new Error(`${err.message}\nresumed node's last log lines:\n${frozenLog.split('\n').slice(-25).join('\n')}`);
      }),
    );
    const replacement = await waitFor(
      async () => {
        for (const id of await server.client.smembers('verk_nodes')) {
          if (id !== node && (await server.client.hget(`verk:node:${id}:info`, 'supervisor_pid')) === String(frozen.pid)) return id;
        }
        return null;
      },
      { what: 'a replacement node with a fresh id under the resumed supervisor' },
    );
    const ex = await executions(server.client);
    const duplicates = [...ex.values()].reduce((n, c) => n + c - 1, 0);
    console.log(
      `[measured] SIGSTOP: jobs finished by the other node ${takeoverMs} ms after the freeze; late acks refused ${fenced}; duplicates ${duplicates} (the frozen node's interrupted copies); node ${node} replaced by ${replacement}`,
    );
    expect(fenced).toBeGreaterThanOrEqual(1);
    expect(replacement).not.toBe(node);
    expect(await server.client.zcard('retry')).toBe(0);
    expect(await server.client.llen('queue:default')).toBe(0);
    for (const j of jids) expect(ex.get(j)).toBeGreaterThanOrEqual(1);
    expect(await server.client.keys(`inprogress:*:${node}`)).toEqual([]);
  } finally {
    signalGroup(frozen.pid!, 'SIGCONT');
    signalGroup(frozen.pid!, 'SIGTERM');
    if (healthy) signalGroup(healthy.pid!, 'SIGTERM');
    await frozen;
    if (healthy) await healthy;
  }
});
