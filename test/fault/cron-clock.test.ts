// Fault: periodic jobs on a node whose wall clock is wrong and then jumps. Two `verk work`
// processes share an every-second entry; node B runs under libfaketime with its wall clock an
// hour behind. Node A is killed with SIGKILL, so B alone fires; then B's clock steps 3 hours
// forward. Ticks come from Redis's TIME, so B fires every second on time throughout: nothing
// enqueued twice, no second left out, no tick refused as being in the future. (A planner on the
// local clock would fire nothing for an hour, then try ticks three hours ahead.) Skipped, with
// the reason printed, where libfaketime cannot be loaded.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { signalGroup, startWorker } from '../helpers/cli.js';
import { usePrivateRedis, workArgs, workEnv } from '../helpers/e2e.js';
import { jsonLines } from '../helpers/e2e-kit.js';
import { faketimeEnv } from '../helpers/faketime.js';
import { waitFor } from '../helpers/wait.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-cron-clock-'));
const offsetFile = path.join(dir, 'offset');
fs.writeFileSync(offsetFile, '-3600');
const ft = faketimeEnv(offsetFile);
if (ft.why) console.log(`[skipped] cron clock-step scenario: ${ft.why}`);

let server: RedisServer;
usePrivateRedis((s) => {
  server = s;
});

const CRON = JSON.stringify({ tick: { class: 'Count', schedule: '* * * * * *', queue: 'cron-ledger' } });
const ticksPushed = async () => (await server.client.lrange('queue:cron-ledger', 0, -1)).map((j) => (JSON.parse(j) as { cron: { tick: number } }).cron.tick);

describe('cron with a wrong and jumping wall clock', () => {
  (ft.env ? it : it.skip)(
    'a node an hour behind, alone after the other is killed, then stepped 3 h forward: every second fired once, on time',
    async () => {
      fs.writeFileSync(offsetFile, '-3600');
      const a = startWorker(workArgs(server, ['--processes', '1', '--cron', CRON]), { env: workEnv(server) });
      const b = startWorker(workArgs(server, ['--processes', '1', '--cron', CRON]), { env: { ...workEnv(server), ...ft.env } });
      let resB: Awaited<typeof b> | undefined;
      let aloneFrom = 0;
      let steppedAt = 0;
      try {
        await waitFor(async () => (await ticksPushed()).length >= 3, { what: 'three ticks', timeoutMs: 30_000 });
        signalGroup(a.pid!, 'SIGKILL');
        await a;
        aloneFrom = Math.max(...(await ticksPushed()));
        await waitFor(async () => (await ticksPushed()).filter((t) => t > aloneFrom).length >= 4, {
          what: 'four ticks fired by the node an hour behind',
          timeoutMs: 30_000,
        });
        fs.writeFileSync(offsetFile, '+7200');
        steppedAt = Math.max(...(await ticksPushed()));
        await waitFor(async () => (await ticksPushed()).filter((t) => t > steppedAt).length >= 4, { what: 'four ticks after the clock step', timeoutMs: 30_000 });
      } finally {
        signalGroup(a.pid!, 'SIGKILL');
        signalGroup(b.pid!, 'SIGTERM');
        resB = await b;
      }
      const ticks = (await ticksPushed()).sort((x, y) => x - y);
      const distinct = new Set(ticks).size;
      const holes = ticks[ticks.length - 1] - ticks[0] + 1 - distinct;
      const events = (await server.client.lrange('verk:cron:tick:history', 0, -1)).map((h) => JSON.parse(h) as Record<string, unknown>);
      const lags = events.filter((e) => e.outcome === 'fired').map((e) => Number(e.lag_ms));
      const future = jsonLines(String(resB.all ?? '')).filter((l) => String(l.msg).startsWith('a due tick is after'));
      console.log(
        `[measured] cron clock step: ${ticks.length} ticks, ${ticks.length - distinct} duplicates, ${holes} holes; node an hour behind alone from tick ${aloneFrom}, stepped +3 h after ${steppedAt}; ` +
          `max lag ${Math.max(...lags)} ms; ${future.length} future refusals`,
      );
      expect(ticks.length - distinct).toBe(0);
      expect(holes).toBe(0);
      expect(events.filter((e) => e.outcome === 'missed' || e.outcome === 'skipped')).toEqual([]);
      expect(future).toEqual([]);
      expect(Math.max(...lags)).toBeLessThan(5000);
    },
    90_000,
  );
});
