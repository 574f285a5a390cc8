// The fast-check command of the conservation property for lua/cron-tick-8.lua: a periodic tick
// in any mode, with the entry's last job set now and then to a payload the world holds (so
// skip-if-running and replace look for real bytes, some as the reap rewrote them). The script
// may add exactly the one job it reports (fired/run) to the entry's queue, and remove exactly
// one form of the last job when it reports a replace; it must not touch any other payload.
import fc from 'fast-check';
import { cronJobHead } from '../../src/job/cron-job.js';
import { ScriptCmd, agree, type Cmd } from './checked-call.js';
import { size } from './conservation.js';
import { scalar, type Reply } from './lua-runner.js';
import { K, PLACES, QUEUES, pick } from './world.js';

/** The last job's exact bytes and the forms the reap gives it ("verk_recovered": 0..3 appended). */
export function lastJobForms(prev: Buffer): Buffer[] {
  const forms = [prev];
  if (prev.length > 0 && prev[prev.length - 1] === 0x7d) {
    for (let n = 0; n <= 3; n++) forms.push(Buffer.concat([prev.subarray(0, -1), Buffer.from(`,"verk_recovered":${n}}`)]));
  }
  return forms;
}

/** Outcomes seen per reply word (and 'replaced'), for the [measured] line and the reach check. */
export const cronSeen = new Map<string, number>();

export const cronTickCmd = fc
  .record({
    mode: fc.constantFrom('init', 'fire', 'fire', 'fire', 'miss', 'run'),
    q: fc.constantFrom(...QUEUES),
    overlap: fc.constantFrom('allow', 'skip-if-running', 'replace'),
    back: fc.integer({ min: -2, max: 3 }),
    last: fc.option(fc.record({ place: fc.nat(PLACES.length - 4), i: fc.nat(), recovered: fc.boolean() }), { nil: undefined }),
    /** Seconds ago the entry's watermark is set to before the call (undefined: left as it is). */
    watermark: fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
    paused: fc.nat(5).map((x) => x === 0),
    /** Plans from the entry's real watermark (most calls) or from a stale one. */
    stale: fc.nat(4).map((x) => x === 0),
  })
  .map(
    ({ mode, q, overlap, back, last, watermark, paused, stale }) =>
      new ScriptCmd(
        `cronTick(${mode}, ${q}, ${overlap}, now-${back}s${watermark ? `, watermark now-${watermark}s` : ''}${paused ? ', paused' : ''}${stale ? ', stale plan' : ''}${last ? `, last=${PLACES[last.place]}[${last.i}]${last.recovered ? '~' : ''}` : ''})`,
        async (w) => {
          const state = K.cronState('c');
          let forms: Buffer[] = [];
          if (last) {
            const key = PLACES[last.place];
            const prev = await pick(w, key, last.i);
            // The state keeps the bytes the script pushed; a reap may have left their recovered form in a list.
            const at = last.recovered && prev[prev.length - 1] === 0x7d ? await w.redis.lpos(key, prev).catch(() => null) : null;
            if (at !== null) await w.redis.lset(key, at, lastJobForms(prev)[2]);
            await w.redis.hset(state, 'last_payload', prev, 'last_jid', 'prev').catch(() => 0);
            forms = lastJobForms(prev);
          } else {
            const prev = await w.redis.hgetBuffer(state, 'last_payload').catch(() => null);
            if (prev) forms = lastJobForms(prev);
          }
          const [s] = await w.redis.time();
          const tick = (Number(s) - back) * 1000;
          if (watermark !== undefined) await w.redis.hset(state, 'last_tick', (Number(s) - watermark) * 1000).catch(() => 0);
          await (paused ? w.redis.sadd(K.cronPaused, 'c') : w.redis.srem(K.cronPaused, 'c')).catch(() => 0);
          const expected = stale ? tick - 5000 : Number(await w.redis.hget(state, 'last_tick').catch(() => null));
          const { head, jid } = cronJobHead({ class: 'C', args: [1], queue: q, retry: true }, 'cronjid000000000000000001');
          // Every call here carries the same jid: a run whose jid is the entry's last job is a resend, which pushes nothing.
          const resentRun = mode === 'run' && (await w.redis.hget(state, 'last_jid').catch(() => null)) === jid;
          const pushes = (outcome: unknown) => (outcome === 'fired' || (outcome === 'run' && !resentRun) ? 1 : 0);
          return {
            script: 'cronTick',
            keys: [state, K.cronHistory('c'), K.cronPaused, K.cronEntries, K.queue(q), K.queues, K.nodes, K.reaping],
            argv: ['', mode, 'c', mode === 'init' || mode === 'run' ? 0 : tick, 2, tick - 2000, overlap, q, head, jid, 'n1', 5, 1000, 10, 3, expected],
            allow: (reply) => {
              const r = Array.isArray(reply) ? reply : [];
              const outcome = scalar(r[0]);
              const pushed = pushes(outcome);
              const replaced = outcome === 'fired' && Number(scalar(r[4])) > 0 ? 1 : 0;
              return { places: [K.queue(q)], creates: pushed, drops: replaced ? forms : [], exactDrops: replaced };
            },
            verify: (reply, b, a) => {
              const r = reply as Reply[];
              const outcome = scalar(r[0]);
              const pushed = pushes(outcome);
              const replaced = outcome === 'fired' && Number(scalar(r[4])) > 0 ? 1 : 0;
              const seen = replaced ? 'replaced' : String(outcome);
              cronSeen.set(seen, (cronSeen.get(seen) ?? 0) + 1);
              if (replaced && overlap !== 'replace') return `replaced a job with overlap ${overlap}`;
              const head = a.places.get(K.queue(q));
              if (pushed && ![...(head?.keys() ?? [])].some((p) => p.includes(`"jid":"${jid}"`) && p.includes('"cron":{"entry":"c"')))
                return `${outcome}, but no job of the entry is in ${q}`;
              return agree(`${outcome}: queue grew by`, pushed - replaced, 'the census shows', size(a, K.queue(q)) - size(b, K.queue(q)));
            },
          };
        },
      ),
  );

export const CRON_CMDS: Record<string, fc.Arbitrary<Cmd>> = { cronTick: cronTickCmd };
export const CRON_ARGV_LAYOUT: Record<string, string> = { cronTick: '16' };
