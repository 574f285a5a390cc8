// Per-jid accounting for fault tests: given the jids a test enqueued, finds every place a job can
// sit in (queue:*, inprogress:*, schedule, retry, dead) and what the fixture handlers recorded
// (test:execs, test:done), and reports per jid: done, lost (in no key and not done), duplicated
// (executions > 1) and stuck (in the in-progress list of a node that is not alive). Prints a
// `[measured]` line and appends the figures to test/fault/results/latest.jsonl.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { executions } from './e2e.js';

export const RESULTS_FILE = fileURLToPath(new URL('../fault/results/latest.jsonl', import.meta.url));

export interface LedgerFigures {
  scenario: string;
  jobs: number;
  done: number;
  lost: number;
  /** Jids that ran more than once, and the extra executions in total. */
  duplicated: number;
  extraExecutions: number;
  stuck: number;
  /** Not done but still somewhere a worker will take it from (queue, a live node, schedule, retry). */
  pending: number;
  retry: number;
  dead: number;
  /** Jids found in more than one key at once (must never happen). */
  inTwoPlaces: number;
  /** Anything else the scenario measured (recovery times, fencing counts...). */
  extra: Record<string, unknown>;
  at: string;
}

export interface LedgerSources {
  /** A direct connection to the Redis verk uses (not through a fault proxy). */
  verk: Redis;
  /** Where the fixture handlers record executions (TEST_REDIS_URL); may be the same server. */
  record: Redis;
}

const JID = /"jid":\s*"([^"]+)"/;

function jidOf(raw: string): string | undefined {
  const m = JID.exec(raw);
  if (m) return m[1];
  try {
    const v = JSON.parse(raw) as { jid?: unknown };
    return v && typeof v.jid !== 'undefined' ? String(v.jid) : undefined;
  } catch {
    return undefined;
  }
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    out.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return out;
}

/** Where each jid sits now: key names (an in-progress list is named with its node). */
export async function locate(redis: Redis): Promise<Map<string, string[]>> {
  const where = new Map<string, string[]>();
  const add = (raw: string, key: string) => {
    const jid = jidOf(raw);
    if (jid === undefined) return;
    const list = where.get(jid) ?? [];
    list.push(key);
    where.set(jid, list);
  };
  for (const key of [...(await scanKeys(redis, 'queue:*')), ...(await scanKeys(redis, 'inprogress:*'))]) {
    for (const raw of await redis.lrange(key, 0, -1)) add(raw, key);
  }
  for (const key of ['schedule', 'retry', 'dead']) for (const raw of await redis.zrange(key, 0, -1)) add(raw, key);
  return where;
}

/** Counts every enqueued jid; `extra` is merged into the printed and recorded figures. */
export async function ledger(scenario: string, jids: string[], src: LedgerSources, extra: Record<string, unknown> = {}): Promise<LedgerFigures> {
  const [where, ex, doneIds] = await Promise.all([locate(src.verk), executions(src.record), src.record.hkeys('test:done')]);
  const done = new Set(doneIds);
  const aliveCache = new Map<string, boolean>();
  const alive = async (node: string) => {
    if (!aliveCache.has(node)) aliveCache.set(node, (await src.verk.exists(`verk:node:${node}`)) === 1);
    return aliveCache.get(node)!;
  };
  const f: LedgerFigures = {
    scenario,
    jobs: jids.length,
    done: 0,
    lost: 0,
    duplicated: 0,
    extraExecutions: 0,
    stuck: 0,
    pending: 0,
    retry: 0,
    dead: 0,
    inTwoPlaces: 0,
    extra,
    at: new Date().toISOString(),
  };
  for (const jid of jids) {
    const keys = where.get(jid) ?? [];
    const runs = ex.get(jid) ?? 0;
    if (runs > 1) {
      f.duplicated++;
      f.extraExecutions += runs - 1;
    }
    if (keys.length > 1) f.inTwoPlaces++;
    if (done.has(jid)) f.done++;
    if (keys.includes('retry')) f.retry++;
    if (keys.includes('dead')) f.dead++;
    if (done.has(jid)) continue;
    if (keys.length === 0) {
      f.lost++;
      continue;
    }
    let isStuck = false;
    for (const k of keys.filter((k) => k.startsWith('inprogress:'))) {
      if (!(await alive(k.slice(k.lastIndexOf(':') + 1)))) isStuck = true;
    }
    if (isStuck) f.stuck++;
    else f.pending++;
  }
  const extras = Object.entries(extra)
    .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(', ');
  console.log(
    `[measured] ${scenario}: ${f.jobs} jobs, done ${f.done}, lost ${f.lost}, duplicated ${f.duplicated} (+${f.extraExecutions} runs), stuck ${f.stuck}, pending ${f.pending}, retry ${f.retry}, dead ${f.dead}${f.inTwoPlaces ? `, IN TWO PLACES ${f.inTwoPlaces}` : ''}${extras ? `; ${extras}` : ''}`,
  );
  fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  fs.appendFileSync(RESULTS_FILE, JSON.stringify(f) + '\n');
  return f;
}
