// Unit tests for src/job/codec.ts: reading Sidekiq/verk payloads, writing new jobs and failure fields.
import { describe, expect, it } from 'vitest';
import { decodeJob, encodeNewJob, failedPayload, markEnqueued, toSeconds, type Job } from '../../src/job/codec.js';
import { rawMember, topLevelMembers } from '../../src/job/raw-json.js';
import { createHash } from 'node:crypto';

// Exact payloads from reference/sidekiq-6-format.md §2 and §3.
const PUSHED =
  '{"retry":true,"queue":"default","class":"MyJob","args":[1,"two",{"x":3}],"jid":"c9f1d4517ea30655e74cf421","created_at":1795388709.9226692,"enqueued_at":1795388709.9229732}';
const SCHEDULED = '{"retry":true,"queue":"default","class":"MyJob","args":[2],"jid":"aa884a9a0605b120742b9412","created_at":1795388709.9237423}';
const RETRIED =
  '{"retry":5,"queue":"default","backtrace":3,"args":["a",1],"class":"FailingJob","jid":"2ca11a4fc87165632fa915a8","created_at":1795389061.3695548,"enqueued_at":1795389061.3695781,"error_message":"boom from FailingJob args=[\\"a\\", 1]","error_class":"ArgumentError","failed_at":1795389061.806667,"retry_count":0,"error_backtrace":"eJy1zVsOgjAQheGtNH1BE2GCwSayFWKU4oiV0sGZ4mX3AtEl+PrnnHyVhidx\\nBxIR2YUW...\\n"}';
const DEAD_AFTER_ONE =
  '{"retry":1,"queue":"default","args":["b",2],"class":"FlakyJob","jid":"24b41e439026e26efff618d1","created_at":1795389061.3698273,"enqueued_at":1795389074.4583929,"error_message":"flaky failure args=[\\"b\\", 2]","error_class":"RuntimeError","failed_at":1795389061.808707,"retry_count":1,"retried_at":1795389074.4592855}';
const DEAD_AT_ONCE =
  '{"retry":0,"queue":"default","args":["c",3],"class":"DeadOnFailJob","jid":"60626f02058fd59650ff115c","created_at":1795389061.370147,"enqueued_at":1795389061.3701715,"error_message":"straight to the morgue","error_class":"RuntimeError","failed_at":1795389061.8094828,"retry_count":0}';
// reference/verk-1.7-data-model.md §2: the 13-key shape verk always writes (alphabetical, nulls included).
const VERK_EMPTY =
  '{"args":"[]","class":null,"created_at":null,"enqueued_at":null,"error_backtrace":null,"error_message":null,"failed_at":null,"finished_at":null,"jid":null,"max_retry_count":null,"queue":null,"retried_at":null,"retry_count":0}';
const VERK_JOB =
  '{"args":"[1,2]","class":"Elixir.My.Worker","created_at":null,"enqueued_at":1795388709,"error_backtrace":null,"error_message":null,"failed_at":null,"finished_at":null,"jid":"12345678904294967295","max_retry_count":7,"queue":"mail","retried_at":null,"retry_count":0}';

function decoded(raw: Buffer | string, fallbackQueue?: string): Job {
  const r = decodeJob(raw, fallbackQueue);
  if (!r.ok) throw new Error(`expected ok, got: ${r.error}`);
  return r.job;
}

const fail = (errorMessage = 'boom', nowSeconds = 1795390000.5) => ({ errorClass: 'Error', errorMessage, backtrace: ['at a (x.ts:1:1)', 'at b (y.ts:2:2)'], nowSeconds });

describe('decodeJob: Sidekiq shape', () => {
  it('reads a job pushed by Sidekiq::Client', () => {
    const job = decoded(PUSHED);
    expect(job).toMatchObject({
      class: 'MyJob',
      args: [1, 'two', { x: 3 }],
      jid: 'c9f1d4517ea30655e74cf421',
      queue: 'default',
      retry: true,
      retryCount: undefined,
      enqueuedAt: 1795388709.9229732,
    });
    expect(job.raw).toBe(PUSHED);
  });

  it('reads a scheduled job (no enqueued_at)', () => {
    expect(decoded(SCHEDULED)).toMatchObject({ args: [2], enqueuedAt: undefined, retryCount: undefined });
  });

  it('reads failure fields: retry number and retry_count', () => {
    expect(decoded(RETRIED)).toMatchObject({ class: 'FailingJob', retry: 5, retryCount: 0, args: ['a', 1] });
    expect(decoded(DEAD_AFTER_ONE)).toMatchObject({ retry: 1, retryCount: 1 });
    expect(decoded(DEAD_AT_ONCE)).toMatchObject({ retry: 0, retryCount: 0 });
  });

  it('reads retry:false and keeps unknown keys in data', () => {
    const job = decoded('{"class":"A","args":[],"retry":false,"tags":["t"],"wrapped":"X"}');
    expect(job.retry).toBe(false);
    expect(job.data).toMatchObject({ tags: ['t'], wrapped: 'X' });
  });

  it('uses the fallback queue when the payload names none', () => {
    expect(decoded('{"class":"A","args":[]}', 'mail').queue).toBe('mail');
    expect(decoded('{"class":"A","args":[],"queue":""}', 'mail').queue).toBe('mail');
    expect(decoded('{"class":"A","args":[]}').queue).toBe('default');
  });
});

describe('decodeJob: verk shape', () => {
  it('reads string-encoded args, integer seconds and max_retry_count', () => {
    expect(decoded(VERK_JOB)).toMatchObject({ class: 'Elixir.My.Worker', args: [1, 2], jid: '12345678904294967295', queue: 'mail', retry: 7, enqueuedAt: 1795388709 });
  });

  it('treats a fresh verk job (retry_count 0, failed_at null) as never failed', () => {
    expect(decoded(VERK_JOB).retryCount).toBeUndefined();
  });

  it('rejects the literal empty job (class null) but reads it once class is set', () => {
    const r = decodeJob(VERK_EMPTY);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/class/);
    const job = decoded(VERK_EMPTY.replace('"class":null', '"class":"My.Worker"'));
    expect(job).toMatchObject({ class: 'My.Worker', args: [], queue: 'default', retry: undefined, enqueuedAt: undefined });
  });

  it('turns args {} (cjson mangling, verk #149) and missing args into []', () => {
    expect(decoded('{"class":"A","args":{}}')).toMatchObject({ args: [], argsError: undefined });
    expect(decoded('{"class":"A"}')).toMatchObject({ args: [], argsError: undefined });
    expect(decoded('{"class":"A","args":"[3,{}]"}')).toMatchObject({ args: [3, {}], argsError: undefined });
  });

  it.each([
    ['an object with data', '{"class":"A","args":{"user":42}}', /"args" must be an array, found an object: \{"user":42\}/],
    ['null', '{"class":"A","args":null}', /found null/],
    ['a number', '{"class":"A","args":5}', /found a number: 5/],
    ['a string holding an object', '{"class":"A","args":"{\\"user\\":42}"}', /a string holding an object, not a JSON array: \{"user":42\}/],
    ['a string holding {}', '{"class":"A","args":"{}"}', /a string holding an object/],
    ['a string holding a number', '{"class":"A","args":"5"}', /a string holding a number/],
    ['a string that is not JSON', '{"class":"A","args":"oops"}', /a string that is not a JSON array: "oops"/],
  ])('args %s: decoded (so it can go to dead with its fields) with argsError naming what was found', (_name, raw, message) => {
    const job = decoded(raw);
    expect(job.argsError).toMatch(message);
    expect(job.args).toEqual([]);
  });

  it('gives a job without jid a stable id from its bytes', () => {
    const raw = '{"class":"A","args":[1],"jid":null}';
    const a = decoded(raw).jid;
    expect(a).toBe(createHash('sha1').update(raw).digest('hex'));
    expect(decoded(raw).jid).toBe(a);
    expect(decoded('{"class":"A","args":[2],"jid":null}').jid).not.toBe(a);
    expect(decoded('{"class":"A","args":[],"jid":123}').jid).toBe('123');
  });

  it('reads millisecond timestamps as seconds', () => {
    expect(toSeconds(1795388709123)).toBeCloseTo(1795388709.123, 3);
    expect(toSeconds(1795388709)).toBe(1795388709);
    expect(toSeconds(null)).toBeUndefined();
    expect(toSeconds('1795388709')).toBeUndefined();
  });
});

describe('decodeJob: bytes', () => {
  it('reads a valid UTF-8 Buffer like its text', () => {
    const job = decoded(Buffer.from('{"class":"A","args":["ü😀"],"jid":"j"}'));
    expect(job).toMatchObject({ args: ['ü😀'], jid: 'j', raw: '{"class":"A","args":["ü😀"],"jid":"j"}' });
  });

  it('refuses bytes that are not valid UTF-8 (they go to dead as they are)', () => {
    const bytes = Buffer.concat([Buffer.from('{"class":"A","args":["'), Buffer.from([0xff, 0xfe]), Buffer.from('"],"jid":"j"}')]);
    expect(decodeJob(bytes)).toEqual({ ok: false, error: 'payload is not valid UTF-8' });
  });
});

describe('decodeJob: malformed input', () => {
  it.each([
    ['not JSON', '{"class":"A",', /malformed JSON/],
    ['an array', '[{"class":"A"}]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['no class', '{"args":[]}', /"class"/],
    ['empty class', '{"class":"","args":[]}', /"class"/],
    ['class not a string', '{"class":5,"args":[]}', /"class"/],
  ])('%s → ok:false with a clear error', (_name, raw, message) => {
    const r = decodeJob(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe('encodeNewJob', () => {
  it("writes Sidekiq's key order", () => {
    const { payload, jid, queue } = encodeNewJob({ class: 'MyJob', args: [1, 'two', { x: 3 }] }, 1795388709.9226692, true);
    expect(topLevelMembers(payload).map((m) => m.key)).toEqual(['retry', 'queue', 'class', 'args', 'jid', 'created_at', 'enqueued_at']);
    expect(jid).toMatch(/^[0-9a-f]{24}$/);
    expect(queue).toBe('default');
    expect(payload).toBe(
      `{"retry":true,"queue":"default","class":"MyJob","args":[1,"two",{"x":3}],"jid":"${jid}","created_at":1795388709.9226692,"enqueued_at":1795388709.9226692}`,
    );
  });

  it('omits enqueued_at for a scheduled job', () => {
    const { payload } = encodeNewJob({ class: 'A', args: [2], jid: 'j1' }, 1795388709.5, false);
    expect(payload).toBe('{"retry":true,"queue":"default","class":"A","args":[2],"jid":"j1","created_at":1795388709.5}');
  });

  it('keeps argsJson byte for byte', () => {
    const argsJson = '[12345678901234567890123,"caf\\u00e9","😀",[],{},{"a":[ ]}]';
    const { payload } = encodeNewJob({ class: 'A', argsJson }, 1, true);
    expect(rawMember(payload, 'args')).toBe(argsJson);
    expect(decoded(payload).args).toEqual([12345678901234567890123, 'café', '😀', [], {}, { a: [] }]);
  });

  it('writes queue, retry, jid and extra keys as given', () => {
    const { payload } = encodeNewJob({ class: 'A', args: [], queue: 'mail', retry: 3, jid: 'abc', extra: { tags: ['x'] } }, 2, true);
    expect(JSON.parse(payload)).toEqual({ retry: 3, max_retry_count: 3, queue: 'mail', class: 'A', args: [], jid: 'abc', created_at: 2, enqueued_at: 2, tags: ['x'] });
    expect(decoded(encodeNewJob({ class: 'A', retry: false }, 2, true).payload)).toMatchObject({ retry: false, args: [] });
  });

  it('a number of retries is also max_retry_count (what Elixir verk reads), right after retry; true/false add nothing', () => {
    const { payload } = encodeNewJob({ class: 'A', args: [1], retry: 3, jid: 'j1' }, 2, true);
    expect(payload).toBe('{"retry":3,"max_retry_count":3,"queue":"default","class":"A","args":[1],"jid":"j1","created_at":2,"enqueued_at":2}');
    expect(encodeNewJob({ class: 'A', retry: 0, jid: 'j0' }, 2, false).payload).toBe(
      '{"retry":0,"max_retry_count":0,"queue":"default","class":"A","args":[],"jid":"j0","created_at":2}',
    );
    expect(decoded(payload)).toMatchObject({ retry: 3 });
    for (const retry of [true, false, undefined]) expect(JSON.parse(encodeNewJob({ class: 'A', retry }, 2, true).payload)).not.toHaveProperty('max_retry_count');
  });

  it('gives every job its own jid', () => {
    expect(encodeNewJob({ class: 'A' }, 1, true).jid).not.toBe(encodeNewJob({ class: 'A' }, 1, true).jid);
  });

  it.each(['{"a":1}', '"x"', '[1,', '[1] [2]', ''])('rejects argsJson %j that is not a JSON array', (argsJson) => {
    expect(() => encodeNewJob({ class: 'A', argsJson }, 1, true)).toThrow(/array/);
  });
});

describe('failedPayload', () => {
  it('first failure: retry_count 0, failed_at, no retried_at, error fields', () => {
    const { payload, retryCount } = failedPayload(decoded(PUSHED), fail('boom', 1795390000.25));
    expect(retryCount).toBe(0);
    const d = JSON.parse(payload);
    expect(d).toMatchObject({
      retry_count: 0,
      failed_at: 1795390000.25,
      error_class: 'Error',
      error_message: 'boom',
      error_backtrace: ['at a (x.ts:1:1)', 'at b (y.ts:2:2)'],
    });
    expect(d).not.toHaveProperty('retried_at');
    expect(payload.startsWith(PUSHED.slice(0, -1) + ',')).toBe(true);
  });

  it('later failures: retry_count +1, retried_at, failed_at kept', () => {
    const first = failedPayload(decoded(PUSHED), fail('one', 100));
    const second = failedPayload(decoded(first.payload), fail('two', 200));
    expect(second.retryCount).toBe(1);
    const d = JSON.parse(second.payload);
    expect(d).toMatchObject({ retry_count: 1, failed_at: 100, retried_at: 200, error_message: 'two' });
    const third = failedPayload(decoded(second.payload), fail('three', 300));
    expect(JSON.parse(third.payload)).toMatchObject({ retry_count: 2, failed_at: 100, retried_at: 300 });
  });

  it('keeps the last 10 failed attempts in verk_attempts, oldest dropped, each message cut to 200 chars; a malformed history is replaced', () => {
    let p = PUSHED;
    for (let i = 1; i <= 12; i++) p = failedPayload(decoded(p), fail(`${i}: ${'m'.repeat(300)}`, 100 + i)).payload;
    const attempts = JSON.parse(p).verk_attempts as { at: number; error_class: string; error_message: string }[];
    expect(attempts).toHaveLength(10);
    expect(attempts.map((a) => a.at)).toEqual([103, 104, 105, 106, 107, 108, 109, 110, 111, 112]);
    expect(attempts[9]).toEqual({ at: 112, error_class: 'Error', error_message: `12: ${'m'.repeat(196)}` });
    const odd = PUSHED.slice(0, -1) + ',"verk_attempts":"not a list"}';
    expect(JSON.parse(failedPayload(decoded(odd), fail('x', 5)).payload).verk_attempts).toEqual([{ at: 5, error_class: 'Error', error_message: 'x' }]);
  });

  it('continues a Sidekiq retry entry (retry_count 0 → 1) and keeps its other keys', () => {
    const { payload, retryCount } = failedPayload(decoded(RETRIED), fail('again', 1795392665.9));
    expect(retryCount).toBe(1);
    expect(rawMember(payload, 'failed_at')).toBe('1795389061.806667');
    expect(rawMember(payload, 'backtrace')).toBe('3');
    expect(JSON.parse(payload)).toMatchObject({ retried_at: 1795392665.9, error_class: 'Error' });
  });

  it('a fresh verk job fails into retry_count 0 and gains failed_at', () => {
    const { payload, retryCount } = failedPayload(decoded(VERK_JOB), fail());
    expect(retryCount).toBe(0);
    expect(JSON.parse(payload)).toMatchObject({ retry_count: 0, failed_at: 1795390000.5, retried_at: null });
    expect(rawMember(payload, 'args')).toBe('"[1,2]"');
  });

  it('truncates error_message to 10000 characters', () => {
    const d = JSON.parse(failedPayload(decoded(PUSHED), fail('x'.repeat(20_000))).payload);
    expect(d.error_message).toHaveLength(10_000);
  });

  it('writes the stand-in jid into a payload that has none', () => {
    const job = decoded('{"class":"A","args":[],"jid":null}');
    expect(JSON.parse(failedPayload(job, fail()).payload).jid).toBe(job.jid);
    expect(rawMember(failedPayload(decoded(PUSHED), fail()).payload, 'jid')).toBe('"c9f1d4517ea30655e74cf421"');
  });

  it('keeps args bytes through retries and re-enqueueing', () => {
    const raw = '{"retry":true,"queue":"default","class":"A","args":[12345678901234567890123,"\\u00e9😀",[],{}],"jid":"j","created_at":1,"enqueued_at":1}';
    let current = raw;
    for (let n = 0; n < 3; n++) current = markEnqueued(failedPayload(decoded(current), fail(`f${n}`, 10 + n)).payload, 20 + n);
    expect(rawMember(current, 'args')).toBe('[12345678901234567890123,"\\u00e9😀",[],{}]');
    expect(rawMember(current, 'created_at')).toBe('1');
    expect(JSON.parse(current)).toMatchObject({ retry_count: 2, enqueued_at: 22, failed_at: 10, retried_at: 12 });
  });
});

describe('markEnqueued', () => {
  it('adds enqueued_at to a scheduled payload and changes nothing else', () => {
    expect(markEnqueued(SCHEDULED, 1795388769.5)).toBe(SCHEDULED.slice(0, -1) + ',"enqueued_at":1795388769.5}');
  });

  it('replaces an existing enqueued_at in place', () => {
    const out = markEnqueued(PUSHED, 5);
    expect(out).toBe(PUSHED.replace('"enqueued_at":1795388709.9229732', '"enqueued_at":5'));
  });
});

describe('encodeNewJob extra keys', () => {
  it('refuses extra keys that would override the fields it writes (the returned jid must be the stored one)', () => {
    expect(() => encodeNewJob({ class: 'A', extra: { jid: 'other' } }, 1, true)).toThrow(/extra must not set jid/);
    expect(() => encodeNewJob({ class: 'A', retry: 2, extra: { max_retry_count: 9 } }, 1, true)).toThrow(/extra must not set max_retry_count/);
    const { payload } = encodeNewJob({ class: 'A', extra: { tags: ['x'] } }, 1, true);
    expect(JSON.parse(payload).tags).toEqual(['x']);
  });
});
