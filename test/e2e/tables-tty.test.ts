// Tables on a real terminal: the built CLI under a pseudo-terminal (util-linux `script`) sized with
// `stty cols`, colour on. Every line of `verk retry list`, `verk dead list` and `verk stats` fits
// the terminal's width in visible columns (colour codes take none, wide characters two), the
// columns line up although some cells are red, and jids stay whole. Piped, nothing is cut.
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { stripAnsi, visibleWidth } from '../../src/cli/text-width.js';
import { VERK_BIN, verk } from '../helpers/cli.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { cellStarts } from '../helpers/table-cells.js';
import type { RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
usePrivateRedis((s) => (server = s));

const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs verk on a pseudo-terminal `cols` wide; its output lines (colour codes kept). */
async function onTerminal(cols: number, args: string[]): Promise<string[]> {
  const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm-256color' };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  const cmd = `stty cols ${cols} rows 50; exec node ${[VERK_BIN, ...args].map(quote).join(' ')}`;
  const res = await execa('script', ['-qfec', cmd, '/dev/null'], { env, extendEnv: false, reject: false, timeout: 30_000 });
  expect(res.exitCode, res.stderr).toBe(0);
  return res.stdout
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l !== '');
}

const jid = (i: number) => `abcdef0123456789abcdef${String(i).padStart(2, '0')}`;

async function seed(set: 'retry' | 'dead'): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  for (let i = 1; i <= 4; i++) {
    const job = {
      retry: true,
      queue: 'default',
      class: 'Mailers.Welcome',
      args: [{ user: i, note: '日本語のテキスト and a long tail of arguments' }],
      jid: jid(i),
      created_at: now - 600,
      enqueued_at: now - 600,
      error_message: `connect ECONNREFUSED 127.0.0.1:5432 while sending the welcome mail 😀 to user ${i}`,
      error_class: 'Error',
      failed_at: now - 300,
      retry_count: i,
    };
    await server.client.zadd(set, set === 'retry' ? now + 60 * i : now - 60 * i, JSON.stringify(job));
  }
}

/** Every line fits, every row's cells start where the header's do, and the jids are whole. */
function expectFitted(lines: string[], cols: number, rows: number): void {
  const [header, ...body] = lines;
  expect(header).toContain('\x1b['); // colour is on: this is the terminal path
  const starts = cellStarts(header);
  for (const l of lines) expect(visibleWidth(l), stripAnsi(l)).toBeLessThanOrEqual(cols);
  for (const l of body.slice(0, rows)) expect(cellStarts(l), stripAnsi(l)).toEqual(starts);
  for (let i = 1; i <= rows; i++) expect(body.some((l) => stripAnsi(l).startsWith(`${jid(i)}  `))).toBe(true);
}

describe.skipIf(!hasScript)('tables on a terminal', () => {
  it.each([80, 100, 132])('verk retry list and dead list at %i columns: every line fits, columns align, jids whole', async (cols) => {
    await seed('retry');
    await seed('dead');
    for (const set of ['retry', 'dead']) {
      const lines = await onTerminal(cols, [set, 'list', '--redis-url', server.url]);
      console.log(`[measured] ${set} list at ${cols} columns: widest line ${Math.max(...lines.map(visibleWidth))} columns`);
      expectFitted(lines, cols, 4);
      expect(stripAnsi(lines[0])).toMatch(/^JID +CLASS +.*ERROR/);
    }
  });

  it('verk stats: the red FAILED cells do not shift their column', async () => {
    await server.client.sadd('queues', 'default', 'mail', 'reports');
    await server.client.mset(
      'stat:processed:default',
      '1200',
      'stat:failed:default',
      '37',
      'stat:processed:mail',
      '5',
      'stat:failed:mail',
      '0',
      'stat:processed:reports',
      '9',
      'stat:failed:reports',
      '4',
    );
    const lines = await onTerminal(80, ['stats', '--redis-url', server.url]);
    const at = lines.findIndex((l) => stripAnsi(l).startsWith('QUEUE'));
    const queues = lines.slice(at, at + 4);
    expect(queues.some((l) => l.includes('\x1b[31m'))).toBe(true);
    const starts = cellStarts(queues[0]);
    for (const l of queues) expect(cellStarts(l), stripAnsi(l)).toEqual(starts);
  });

  it('piped, the same list is neither cut nor coloured', async () => {
    await seed('retry');
    const res = await verk(['retry', 'list', '--redis-url', server.url]);
    const lines = res.stdout.split('\n');
    expect(res.stdout).not.toContain('\x1b[');
    expect(stripAnsi(lines[1])).toMatch(/ {2}Error: connect ECONNREFUSED 127\.0\.0\.1:5432 while \S*… {2}/); // only the list's own 50-column cut
    expect(Math.max(...lines.map(visibleWidth))).toBeGreaterThan(132);
  });
});
