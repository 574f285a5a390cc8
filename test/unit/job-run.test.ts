// runJob: whatever a handler does — return, throw a non-Error, reject late, ignore its
// timeout — becomes a clear outcome, and ctx.signal aborts on timeout.
import { describe, expect, it } from 'vitest';
import { runJob, backtraceOf } from '../../src/core/job-run.js';
import { decodeJob, type Job } from '../../src/job/codec.js';
import type { Handler, Perform } from '../../src/core/handlers.js';
import { silentLogger } from '../../src/util/logger.js';

const job: Job = (decodeJob('{"class":"T","args":[1],"jid":"j1","queue":"q"}') as { ok: true; job: Job }).job;
const handler = (perform: Perform, timeoutMs?: number): Handler => ({ className: 'T', file: 't.js', perform, timeoutMs });
const opts = (timeoutMs = 0, onIgnoredAbort = () => {}, killGraceMs = 20) => ({ timeoutMs, onIgnoredAbort, killGraceMs, log: () => silentLogger });

describe('runJob', () => {
  it('passes args and ctx and reports success', async () => {
    let seen: unknown[] = [];
    const run = runJob(
      job,
      handler((args, ctx) => {
        seen = [args, ctx.jid, ctx.queue, ctx.class, ctx.retryCount];
      }),
      opts(),
    );
    expect(await run.outcome).toEqual({ ok: true });
    expect(seen).toEqual([[1], 'j1', 'q', 'T', undefined]);
  });

  it('turns a thrown string or object into an Error that says what was thrown', async () => {
    const a = await runJob(
      job,
      handler(() => {
        throw 'plain string';
      }),
      opts(),
    ).outcome;
    const b = await runJob(
      job,
      handler(async () => {
        throw { code: 42 };
      }),
      opts(),
    ).outcome;
    expect(a).toMatchObject({ ok: false, error: { name: 'NonErrorThrown', message: 'non-Error thrown: plain string' } });
    expect(b).toMatchObject({ ok: false, error: { message: 'non-Error thrown: {"code":42}' } });
  });

  it('on timeout aborts ctx.signal and fails with TimeoutError; a handler honouring it ends cleanly', async () => {
    let aborted = false;
    const run = runJob(
      job,
      handler(
        (_a, ctx) =>
          new Promise<void>((resolve) =>
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              resolve();
            }),
          ),
      ),
      opts(30),
    );
    const outcome = await run.outcome;
    expect(outcome).toMatchObject({ ok: false, error: { name: 'TimeoutError' } });
    await run.finished;
    expect(aborted).toBe(true);
  });

  it('calls onIgnoredAbort when the handler keeps running killGrace after its timeout', async () => {
    let ignored = 0;
    const run = runJob(
      job,
      handler(() => new Promise((r) => setTimeout(r, 150))),
      opts(20, () => ignored++, 30),
    );
    expect((await run.outcome).ok).toBe(false);
    await run.finished;
    expect(ignored).toBe(1);
  });

  it('a rejection after the handler returned does not change the outcome', async () => {
    const late = new Promise((_r, reject) => setTimeout(() => reject(new Error('late')), 10));
    late.catch(() => {}); // the worker process logs such stray rejections instead of crashing
    const run = runJob(
      job,
      handler(() => {
        void late;
      }),
      opts(),
    );
    expect(await run.outcome).toEqual({ ok: true });
  });

  it('backtraceOf drops the message line and keeps at most N frames', () => {
    const err = new Error('x');
    const lines = backtraceOf(err, 2);
    expect(lines.length).toBe(2);
    expect(lines[0]).toMatch(/^at /);
  });
});
