// The payload identity rule in JS (src/job/identity.ts) against the Lua include the reap script
// uses (lua/include/identity.lua), evaluated on a private redis-server, over generated payloads:
// string/number/odd jids, JSON text forms (escapes, exponents, -0, 2^53±1), arrays, scalars,
// invalid JSON, cjson-only number forms, invalid UTF-8, control bytes, lone surrogates, nesting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { inlineIncludes, LUA_DIR } from '../../src/redis/script-source.js';
import { decodePayload, identityBytes, payloadIdentity, sha1 } from '../../src/job/identity.js';

let server: RedisServer;
type Probe = (...payloads: Buffer[]) => Promise<[string, number][]>;
let probe: Probe;
/** Per payload: its identity, then the identities after the reap's edit with n = 3 and again with n = 12, and the last bytes. */
let editProbe: (...payloads: Buffer[]) => Promise<[Buffer, Buffer, Buffer, Buffer][]>;

beforeAll(async () => {
  server = await startRedis();
  const lua = inlineIncludes(
    'identity-probe',
    [
      '-- @include identity',
      'local out = {}',
      'for i = 1, #ARGV do',
      '  local job, id = decode_payload(ARGV[i])',
      '  out[i] = { id, job and 1 or 0 }',
      'end',
      'return out',
    ].join('\n'),
    LUA_DIR,
    [],
  );
  server.client.defineCommand('identityProbe', { numberOfKeys: 0, lua });
  probe = (...p) => (server.client as unknown as { identityProbe: Probe }).identityProbe(...p);
  const edit = inlineIncludes(
    'edit-probe',
    [
      '-- @include identity',
      '-- @include json-fields',
      'local out = {}',
      'for i = 1, #ARGV do',
      '  local job, id = decode_payload(ARGV[i])',
      '  local e1, e2 = ARGV[i], ARGV[i]',
      '  local id1, id2 = id, id',
      '  if job then',
      '    e1 = set_recovered(ARGV[i], "3", job)',
      '    local j1; j1, id1 = decode_payload(e1)',
      '    e2 = set_recovered(e1, "12", j1)',
      '    local _; _, id2 = decode_payload(e2)',
      '  end',
      '  out[i] = { id, id1, id2, e2 }',
      'end',
      'return out',
    ].join('\n'),
    LUA_DIR,
    [],
  );
  server.client.defineCommand('editProbe', { numberOfKeys: 0, lua: edit });
  editProbe = (...p) => (server.client as unknown as { editProbeBuffer: typeof editProbe }).editProbeBuffer(...p);
});
afterAll(async () => server.stop());

const js = (b: Buffer): [string, number] => {
  const d = decodePayload(b);
  return [d.identity, d.job ? 1 : 0];
};

/** Raw JSON texts of a jid value, including forms JSON.stringify never writes. */
const jidText = fc.oneof(
  fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'binary', maxLength: 10 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: fc.constantFrom('a', 'Z', '0', '~', '!', ' ', '"', '\\', '\u007f', 'é'), minLength: 0, maxLength: 300 }).map((s) => JSON.stringify(s)),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom(
    '9007199254740991',
    '-9007199254740991',
    '9007199254740992',
    '9007199254740993',
    '1e21',
    '1E2',
    '1e+5',
    '-0',
    '0',
    '-0.0',
    '1.0',
    '1.5',
    '12345678901234567890123',
    'null',
    'true',
    'false',
    '{}',
    '{"a":1}',
    '[]',
    '[1,2]',
    '"\\u0041"',
    '"a\\/b"',
    '"\\ud83d\\ude00"',
    '"\\ud800"',
    '""',
    '"a b"',
    '0x10',
    'nan',
    'inf',
    'Infinity',
    '+1',
    '01',
    '-01',
    '1.',
    '00',
    '"a\u0001b"',
    '"\u00ff"',
  ),
);

const other = fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }).map((o) => JSON.stringify(o).slice(1, -1));

/** Payload bytes of every shape the reap script can meet. */
const payload: fc.Arbitrary<Buffer> = fc.oneof(
  fc.tuple(jidText, other, fc.boolean()).map(([j, o, first]) => Buffer.from(first ? `{"jid":${j}${o ? `,${o}` : ''}}` : `{${o ? `${o},` : ''}"jid":${j}}`)),
  fc.tuple(jidText, jidText).map(([a, b]) => Buffer.from(`{"jid":${a},"jid":${b}}`)),
  fc.tuple(jidText, fc.constantFrom(' ', '\n', '\t', '\r', '\f', '\v', '')).map(([j, ws]) => Buffer.from(`${ws}{"jid":${j}}${ws}`)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.tuple(jidText, fc.integer({ min: 1, max: 20 })).map(([j, cut]) => Buffer.from(`{"jid":${j},"a":[1,2]}`.slice(0, -cut))),
  fc
    .tuple(jidText, fc.uint8Array({ minLength: 1, maxLength: 4 }))
    .map(([j, bad]) => Buffer.concat([Buffer.from(`{"jid":${j},"x":"`), Buffer.from(bad), Buffer.from('"}')])),
  fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.constantFrom('a', '1'))
    .map(([bad, tail]) => Buffer.concat([Buffer.from('{"jid":"a'), Buffer.from(bad), Buffer.from(`${tail}"}`)])),
  fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
  fc
    .tuple(
      jidText,
      fc.array(fc.constantFrom(0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xa0, 0xed, 0x9f, 0xef, 0xf0, 0x90, 0xf4, 0x8f, 0xf5, 0xff, 0x41), { minLength: 1, maxLength: 5 }),
    )
    .map(([j, bytes]) => Buffer.concat([Buffer.from(`{"jid":${j},"x":"`), Buffer.from(bytes), Buffer.from('"}')])),
  fc.constantFrom(998, 999, 1000, 1001).map((d) => Buffer.from(`{"jid":"deep","x":${'['.repeat(d)}${']'.repeat(d)}}`)),
  // A "verk_recovered" member in every position a reap or a producer may leave it.
  fc.tuple(jidText, other, fc.constantFrom('', ' ', '\n ', ' '), fc.nat(40), fc.constantFrom('end', 'first', 'only', 'twice', 'string')).map(([j, o, ws, n, where]) => {
    const m = where === 'string' ? `"verk_recovered":"${n}"` : `"verk_recovered":${n}`;
    const body = where === 'only' ? m : where === 'first' ? `${m},"jid":${j}` : where === 'twice' ? `"jid":${j},${m},${m}` : `"jid":${j}${o ? `,${o}` : ''},${m}`;
    return Buffer.from(`{${ws}${body}${ws}}${ws}`);
  }),
);

describe('payload identity: JS and Lua agree', () => {
  it('on generated payloads', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(payload, { minLength: 1, maxLength: 25 }), async (ps) => {
        expect(await probe(...ps)).toEqual(ps.map(js));
      }),
      { numRuns: Number(process.env.IDENTITY_RUNS ?? 400) },
    );
  });

  it("survive the reap's own edit (set_recovered), and the edit keeps every other byte", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(payload, { minLength: 1, maxLength: 25 }), async (ps) => {
        const res = await editProbe(...ps);
        res.forEach(([id, id1, id2, edited], i) => {
          expect([id1.toString(), id2.toString()]).toEqual([id.toString(), id.toString()]);
          expect(payloadIdentity(edited)).toBe(id.toString());
          const d = decodePayload(ps[i]);
          if (d.job) expect(identityBytes(edited)).toEqual(identityBytes(ps[i]));
          // Objects are marked, except one whose own "verk_recovered" is not plain digits (kept as it is).
          if (d.job && (d.job.verk_recovered === undefined || /"verk_recovered":[0-9]+[ \t\r\n]*[,}]/.test(ps[i].toString()))) {
            expect(JSON.parse(edited.toString()).verk_recovered).toBe(12);
          } else expect(edited).toEqual(ps[i]);
        });
      }),
      { numRuns: Number(process.env.IDENTITY_RUNS ?? 300) },
    );
  });

  it('on the documented cases', async () => {
    const cases: [string | Buffer, string][] = [
      ['{"jid":"abc"}', 'abc'],
      ['{"jid":"\\u0041"}', 'A'],
      ['{"jid":5}', '5'],
      ['{"jid":-0}', '0'],
      ['{"jid":9007199254740991}', '9007199254740991'],
      ['{"jid":1E2}', '100'],
      ['{"jid":9007199254740992}', sha1('{"jid":9007199254740992}')],
      ['{"jid":1e21}', sha1('{"jid":1e21}')],
      ['{"jid":1.5}', sha1('{"jid":1.5}')],
      ['{"jid":null}', sha1('{"jid":null}')],
      ['{"jid":{"a":1}}', sha1('{"jid":{"a":1}}')],
      ['{"jid":"a b"}', sha1('{"jid":"a b"}')],
      ['{"jid":""}', sha1('{"jid":""}')],
      [`{"jid":"${'x'.repeat(256)}"}`, sha1(`{"jid":"${'x'.repeat(256)}"}`)],
      ['{"jid":0x10}', sha1('{"jid":0x10}')],
      ['["jid"]', sha1('["jid"]')],
      ['{"jid":"a","x":"\u00e9✓😀"}', 'a'],
    ];
    // Not UTF-8 anywhere: not a JSON object (RFC 8259), so the sha1 of the bytes.
    const bad = Buffer.from([0x7b, 0x22, 0x6a, 0x69, 0x64, 0x22, 0x3a, 0x22, 0x61, 0x22, 0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]);
    cases.push([bad, sha1(bad)]);
    for (const overlong of [
      [0xc0, 0x80],
      [0xe0, 0x80, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
    ]) {
      const b = Buffer.concat([Buffer.from('{"jid":"a","x":"'), Buffer.from(overlong), Buffer.from('"}')]);
      cases.push([b, sha1(b)]);
    }
    for (const [p, id] of cases) expect([payloadIdentity(p), (await probe(Buffer.from(p)))[0][0]]).toEqual([id, id]);
  });
});
