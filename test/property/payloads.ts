// Generated job payloads as raw bytes: Sidekiq-shaped objects with odd jids, arrays, scalars,
// null, invalid JSON, invalid UTF-8, NUL bytes, big integers, deep nesting and escapes.
import fc from 'fast-check';
import { SCRIPT_BOUNDS } from '../../src/config/defaults.js';

const b = (s: string | Buffer): Buffer => (Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));

/** The jid member's raw JSON value text, or null for "no jid member". */
const jidText: fc.Arbitrary<string | null> = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{24}$/).map((h) => JSON.stringify(h)),
  fc.constantFrom('{"x":1}', '[1,2]', '[]', '{}', 'null', '42', '-7', '1.5', '12345678901234567890123', '""', 'true', '"a\\"b"', '"\\u0000"', '"jid with spaces"'),
  fc.constant(null),
);

/** A JSON value as text (may hold big integers, escapes, NUL, invalid UTF-8 inside strings). */
const value: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom('1', '0', '-1', '3.25', '1e400', '12345678901234567890123', 'true', 'false', 'null', '[]', '{}', '""').map(b),
  fc.string({ maxLength: 8 }).map((s) => b(JSON.stringify(s))),
  fc.constantFrom('"\\u00e9\\ud83d\\ude00"', '"tab\\tnl\\n"', '"q\\"uote\\\\"', '"\\/"').map(b),
  fc.constant(Buffer.from([0x22, 0x61, 0x00, 0x62, 0x22])), // "a<NUL>b"
  fc.constant(Buffer.from([0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22])), // invalid UTF-8 inside a string
);

function object(members: [string, Buffer][], sep = ','): Buffer {
  const parts: Buffer[] = [b('{')];
  members.forEach(([k, v], i) => {
    if (i > 0) parts.push(b(sep));
    parts.push(b(`${JSON.stringify(k)}:`), v);
  });
  parts.push(b('}'));
  return Buffer.concat(parts);
}

/** A Sidekiq-shaped job with an odd jid and extra members. */
const sidekiqJob: fc.Arbitrary<Buffer> = fc
  .record({
    jid: jidText,
    args: fc.array(value, { maxLength: 3 }),
    extra: fc.array(fc.tuple(fc.constantFrom('retry', 'created_at', 'enqueued_at', 'failed_at', 'error_message', 'verk_recovered', 'x', 'ünï'), value), { maxLength: 3 }),
    sep: fc.constantFrom(',', ', ', ' ,\n '),
    unique: fc.option(
      fc.constantFrom('{"key":"k1","until":"done"}', '{"key":"k2","until":"started"}', '{"key":"k1","until":"ttl","ttl":1000}', '{"key":""}', '"junk"', '{"key":"k2"}'),
      {
        nil: undefined,
        freq: 2,
      },
    ),
  })
  .map(({ jid, args, extra, sep, unique }) => {
    const members: [string, Buffer][] = [
      ['class', b('"Worker"')],
      ['queue', b('"q"')],
      ['args', Buffer.concat([b('['), ...args.flatMap((a, i) => (i ? [b(','), a] : [a])), b(']')])],
    ];
    if (jid !== null) members.push(['jid', b(jid)]);
    members.push(...extra);
    if (unique !== undefined) members.push(['verk_unique', b(unique)]);
    return object(members, sep);
  });

function nest(depth: number, open: string, close: string, inner: string): Buffer {
  return b(open.repeat(depth) + inner + close.repeat(depth));
}

const odd: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .constantFrom(
      '[1,2]',
      '[{"a":1}]',
      '[{"jid":"x"}]',
      '[]',
      '{}',
      '1',
      '"str"',
      'true',
      'null',
      '12345678901234567890123',
      '{"jid":',
      'not json',
      '{"a":1}}',
      '',
      ' ',
      '{"jid":"a"} ',
      ' {"jid":"b"}',
      '{"jid":"x","jid":"y"}',
      '{"a\\u005fb":1}',
      '{"k\\"ey":"v"}',
      '{ "jid" : "sp" , "args" : [ ] }',
      '{"jid":"\\ud800"}',
      // Same length and same jid marker, different bytes: an ack by hash must tell them apart.
      '{"jid":"twin","args":[1]}',
      '{"jid":"twin","args":[2]}',
      // The ack's own tombstone as a job.
      SCRIPT_BOUNDS.tombstone,
    )
    .map(b),
  fc.integer({ min: 1, max: 1200 }).map((d) => nest(d, '[', ']', '1')),
  fc.integer({ min: 1, max: 1200 }).map((d) => nest(d, '{"a":', '}', '1')),
  fc.uint8Array({ maxLength: 24 }).map((u) => Buffer.from(u)),
  fc.constant(Buffer.from([0x7b, 0x22, 0x6a, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0x00, 0x22, 0x7d])), // {"jid":"<FF><NUL>"}
  fc.constant(Buffer.concat([b('{"jid":"big","blob":"'), Buffer.alloc(20_000, 0x61), b('"}')])),
  // Big twins (past SCRIPT_BOUNDS.ackByHashFromBytes): same length and jid, one byte apart, and not UTF-8.
  fc.constantFrom(0x61, 0x62).map((x) => Buffer.concat([b('{"jid":"bigtwin","blob":"'), Buffer.alloc(3000, 0x61), Buffer.from([x, 0xff]), b('"}')])),
);

/** Prints payload bytes in counterexamples as a short escaped string instead of a byte array. */
function printable(buf: Buffer): Buffer {
  const s = buf.toString('latin1');
  const text = s.length > 80 ? `${s.slice(0, 50)}…(${s.length} bytes)…${s.slice(-10)}` : s;
  return Object.defineProperty(Buffer.from(buf), fc.toStringMethod, { value: () => `bytes(${JSON.stringify(text)})` });
}

/** Any payload bytes a queue may hold. */
export const payload: fc.Arbitrary<Buffer> = fc.oneof({ weight: 3, arbitrary: sidekiqJob }, { weight: 2, arbitrary: odd }).map(printable);

/** What a failing worker would write for `raw`: failure fields added to an object, else raw as is. */
export function withFailure(raw: Buffer, n: number): Buffer {
  const s = raw.toString('latin1');
  if (!/^\{\s*"/.test(s)) return raw;
  return Buffer.concat([b(`{"error_message":"boom ${n}","retry_count":${n},`), raw.subarray(raw.indexOf(0x22))]);
}

/** What the scheduler would push for a set member: a fresh enqueued_at on an object, else as is. */
export function withEnqueuedAt(raw: Buffer, at: number): Buffer {
  const s = raw.toString('latin1');
  if (!/^\{\s*"/.test(s)) return raw;
  return Buffer.concat([raw.subarray(0, raw.lastIndexOf(0x7d)), b(`,"enqueued_at":${at}}`)]);
}

/** The unique lock a payload carries as the worker reads it (src/job/unique.ts uniqueOf), if any. */
function lockOf(raw: Buffer): { key: string; jid: string; until: string } | undefined {
  try {
    const d = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    const u = d?.verk_unique as Record<string, unknown> | undefined;
    if (!u || typeof u.key !== 'string' || u.key === '' || typeof d.jid !== 'string') return undefined;
    if (u.until !== 'done' && u.until !== 'started') return undefined;
    return { key: u.key, jid: d.jid, until: u.until };
  } catch {
    return undefined;
  }
}

/** fail-8's optional ARGV[7..9] (`for: 'requeue'`: requeue-3's ARGV[4..7], with the until) for a payload that carries a lock. */
export function lockArgs(prefix: string, raw: Buffer, use?: 'requeue'): string[] {
  const l = lockOf(raw);
  if (!l) return [];
  return use ? [prefix, l.key, l.jid, l.until] : [prefix, l.key, l.jid];
}

/** ack-6's lock tail for these jobs (ARGV order), as the Settler sends it: empty when none carries a lock. */
export function lockTail(prefix: string, raws: Buffer[]): (string | Buffer)[] {
  const locks = raws.map(lockOf);
  if (!locks.some(Boolean)) return [];
  return ['U', prefix, ...locks.flatMap((l, i) => (l ? [`${i + 1}:${l.jid}`, l.key] : []))];
}
