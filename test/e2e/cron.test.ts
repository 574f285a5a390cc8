// Periodic jobs end to end: three `verk work` processes (the built binary) share an every-second
// entry; one is killed with SIGKILL mid-run. The jobs go to a queue no worker serves, so that
// queue is the ledger of everything pushed; with the entry's history it is checked offline:
// each tick enqueued exactly once, none missed or skipped while a node lived (catchUp 'latest'
// and grace 60 s: a tick fired by a live node within 60 s is on time), the decided ticks one
// after the other from the armed instant. Prints ticks, duplicates, missed and max lag. Also
// `verk cron …` on a config file, and `verk work` refusing a bad entry.
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signalGroup, startWorker, verk } from '../helpers/cli.js';
import { usePrivateRedis, workArgs, workEnv } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait.js';
import { httpGet } from '../helpers/e2e-kit.js';
import { freePort } from '../helpers/redis-server.js';

let server: RedisServer;
usePrivateRedis((s) => {
  server = s;
});

const CRON = JSON.stringify({ tick: { class: 'Count', schedule: '* * * * * *', queue: 'cron-ledger' } });

/** The jobs pushed so far, by tick (epoch s), and the entry's history (oldest first). */
async function ledger() {
  const jobs = (await server.client.lrange('queue:cron-ledger', 0, -1)).map(
    (j) => JSON.parse(j) as { jid: string; cron: { entry: string; tick: number }; enqueued_at: number },
  );
  const events = (await server.client.lrange('verk:cron:tick:history', 0, -1)).map((h) => JSON.parse(h) as Record<string, unknown>).reverse();
  return { jobs, events };
}

describe('cron across a fleet', () => {
  it('3 nodes, one killed -9 mid-run: every second enqueued exactly once, none missed', async () => {
    const port = await freePort();
    const ws = [0, 1, 2].map((i) =>
      startWorker(workArgs(server, ['--processes', '1', '--cron', CRON, ...(i === 0 ? ['--health-port', String(port)] : [])]), { env: workEnv(server) }),
    );
    let killedAtTick = 0;
    let metrics = '';
    try {
      await waitFor(async () => (await ledger()).jobs.length >= 4, { what: 'four ticks fired', timeoutMs: 30_000 });
      signalGroup(ws[1].pid!, 'SIGKILL');
      await ws[1];
      killedAtTick = Math.max(...(await ledger()).jobs.map((j) => j.cron.tick));
      await waitFor(async () => (await ledger()).jobs.filter((j) => j.cron.tick > killedAtTick).length >= 5, { what: 'five ticks after the kill', timeoutMs: 30_000 });
      metrics = (await httpGet(port, '/metrics')).body;
    } finally {
      for (const w of [ws[0], ws[2]]) signalGroup(w.pid!, 'SIGTERM');
      await Promise.all(ws);
    }
    const { jobs, events } = await ledger();
    const ticks = jobs.map((j) => j.cron.tick).sort((a, b) => a - b);
    const duplicates = ticks.length - new Set(ticks).size;
    const armed = events.filter((e) => e.outcome === 'armed');
    const fired = events.filter((e) => e.outcome === 'fired');
    const missedOrSkipped = events.filter((e) => e.outcome === 'missed' || e.outcome === 'skipped');
    // Every second from the first fired tick to the last is there (one node lived throughout).
    const holes = ticks[ticks.length - 1] - ticks[0] + 1 - new Set(ticks).size;
    const lags = fired.map((e) => Number(e.lag_ms));
    const byNode = new Map<string, number>();
    for (const e of fired) byNode.set(String(e.by), (byNode.get(String(e.by)) ?? 0) + 1);
    console.log(
      `[measured] cron e2e: ${ticks.length} ticks (${ticks[0]}..${ticks[ticks.length - 1]}), killed after tick ${killedAtTick}; ` +
        `duplicates ${duplicates}, holes ${holes}, missed/skipped ${missedOrSkipped.length}, max lag ${Math.max(...lags)} ms, ` +
        `median lag ${lags.sort((a, b) => a - b)[Math.floor(lags.length / 2)]} ms; fired by ${[...byNode.values()].join('/')} per supervisor`,
    );
    // The first supervisor's metrics: what it decided, and the lag of each job it enqueued.
    const firedHere = Number(/^verk_cron_ticks_total\{entry="tick",outcome="fired"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(firedHere).toBeGreaterThanOrEqual(0); // NaN (no such line) fails
    expect(Number(/^verk_cron_tick_lag_seconds_count\{entry="tick"\} (\d+)$/m.exec(metrics)?.[1])).toBe(firedHere);
    expect(metrics).toMatch(/^verk_cron_missed_ticks_total\{entry="tick"\} 0$/m);
    expect(armed).toHaveLength(1);
    expect(duplicates).toBe(0);
    expect(holes).toBe(0);
    expect(missedOrSkipped).toEqual([]);
    expect(fired.map((e) => Number(e.tick) / 1000).sort((a, b) => a - b)).toEqual(ticks);
    // The first fired tick is the first after the entry was armed.
    expect(ticks[0]).toBe(Math.floor(Number(armed[0].at) / 1000) + 1);
    // Every job is Sidekiq-shaped and names its tick; enqueued on Redis's clock at or after its tick.
    for (const j of jobs) {
      expect(j.jid).toMatch(/^[0-9a-f]{24}$/);
      expect(j.enqueued_at).toBeGreaterThanOrEqual(j.cron.tick);
    }
  }, 90_000);
});

describe('verk cron commands', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-cron-cli-'));
  const config = (cron: unknown) => {
    fs.writeFileSync(path.join(dir, 'verk.config.json'), JSON.stringify({ redisUrl: server.url, handlers: '.', cron }));
  };
  const cli = (...args: string[]) => verk(['cron', ...args], { cwd: dir });
  const json = async (...args: string[]) => {
    const r = await cli(...args, '--json');
    expect(r.exitCode, String(r.stderr)).toBe(0);
    return JSON.parse(String(r.stdout));
  };

  it('list, next, run, pause, history, resume; an unknown name is a usage error', async () => {
    config({ nightly: { class: 'Reports.Nightly', schedule: '30 2 * * *', tz: 'Europe/Berlin', args: [7] } });
    const list = await json('list');
    expect(list.entries).toEqual([
      expect.objectContaining({ name: 'nightly', in_config: true, schedule: '30 2 * * *', tz: 'Europe/Berlin', paused: false, last_tick: null }),
    ]);
    expect(list.entries[0].next_tick).toMatch(/T01:30:00.000Z$/); // 02:30 CET
    const next = await json('next', 'nightly', '--count', '3');
    expect(next.ticks).toHaveLength(3);
    const run = await json('run', 'nightly');
    const [job] = (await server.client.lrange('queue:default', 0, -1)).map((j) => JSON.parse(j));
    expect(job).toMatchObject({ class: 'Reports.Nightly', args: [7], jid: run.jid, cron: { entry: 'nightly', manual: true } });
    expect(await json('pause', 'nightly')).toEqual({ name: 'nightly', paused: true, changed: true });
    expect((await json('list')).entries[0].paused).toBe(true);
    const history = await json('history', 'nightly');
    expect(history.events).toEqual([expect.objectContaining({ outcome: 'run', jid: run.jid })]);
    expect(await json('resume', 'nightly')).toEqual({ name: 'nightly', paused: false, changed: true });
    const table = await cli('list');
    expect(String(table.stdout)).toContain('nightly');
    const unknown = await cli('run', 'nightlly');
    expect(unknown.exitCode).toBe(64);
    expect(String(unknown.stderr)).toContain('did you mean nightly?');
  }, 60_000);

  it('verk work refuses a bad entry at start (exit 78), naming the file, the entry and the field', async () => {
    config({ nightly: { class: 'Reports.Nightly', schedule: '0 3 * * *', tz: 'Europe/Berlinn' } });
    const r = await verk(['work'], { cwd: dir, timeout: 30_000 });
    expect(r.exitCode).toBe(78);
    expect(String(r.stderr)).toContain('verk.config.json: `cron` entry "nightly": tz "Europe/Berlinn" is not an IANA time zone');
  }, 60_000);
});
