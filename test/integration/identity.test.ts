// The payload identity rule in JS (src/job/identity.ts) against the Lua include the reap script
// uses (lua/include/identity.lua), evaluated on a private redis-server, over generated payloads:
// string/number/odd jids, JSON text forms (escapes, exponents, -0, 2^53±1), arrays, scalars,
// invalid JSON, cjson-only number forms, invalid UTF-8, control bytes, lone surrogates, nesting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { inlineIncludes, LUA_DIR } from '../../src/redis/script-source.js';
import { decodePayload, payloadIdentity, sha1 } from '../../src/job/identity.js';

let server: RedisServer;
type Probe = (...payloads: Buffer[]) => Promise<[string, number][]>;
let probe: Probe;

beforeAll(async () => {
  server = await startRedis();
  const lua = inlineIncludes('identity-probe', [
    '-- @include identity',
    'local out = {}',
    'for i = 1, #ARGV do',
    '  local job, id = decode_payload(ARGV[i])',
    '  out[i] = { id, job and 1 or 0 }',
    'end',
    'return out',
  ].join('\n'), LUA_DIR, []);
  server.client.defineCommand('identityProbe', { numberOfKeys: 0, lua });
  probe = (...p) => (server.client as unknown as { identityProbe: Probe }).identityProbe(...p);
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
    '9007199254740991', '-9007199254740991', '9007199254740992', '9007199254740993', '1e21', '1E2', '1e+5', '-0', '0', '-0.0', '1.0',
    '1.5', '12345678901234567890123', 'null', 'true', 'false', '{}', '{"a":1}', '[]', '[1,2]', '"\\u0041"', '"a\\/b"', '"\\ud83d\\ude00"',
    '"\\ud800"', '""', '"a b"', '0x10', 'nan', 'inf', 'Infinity', '+1', '01', '-01', '1.', '00', '"a\u0001b"', '"\u00ff"',
  ),
);

const other = fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }).map((o) => JSON.stringify(o).slice(1, -1));

/** Payload bytes of every shape the reap script can meet. */
const payload: fc.Arbitrary<Buffer> = fc.oneof(
  fc.tuple(jidText, other, fc.boolean()).map(([j, o, first]) =>
    Buffer.from(first ? `{"jid":${j}${o ? `,${o}` : ''}}` : `{${o ? `${o},` : ''}"jid":${j}}`)),
  fc.tuple(jidText, jidText).map(([a, b]) => Buffer.from(`{"jid":${a},"jid":${b}}`)),
  fc.tuple(jidText, fc.constantFrom(' ', '\n', '\t', '\r', '\f', '\v', '')).map(([j, ws]) => Buffer.from(`${ws}{"jid":${j}}${ws}`)),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  fc.tuple(jidText, fc.integer({ min: 1, max: 20 })).map(([j, cut]) => Buffer.from(`{"jid":${j},"a":[1,2]}`.slice(0, -cut))),
  fc.tuple(jidText, fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([j, bad]) =>
    Buffer.concat([Buffer.from(`{"jid":${j},"x":"`), Buffer.from(bad), Buffer.from('"}')])),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.constantFrom('a', '1')).map(([bad, tail]) =>
    Buffer.concat([Buffer.from('{"jid":"a'), Buffer.from(bad), Buffer.from(`${tail}"}`)])),
  fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
  fc.constantFrom(998, 999, 1000, 1001).map((d) => Buffer.from(`{"jid":"deep","x":${'['.repeat(d)}${']'.repeat(d)}}`)),
);

describe('payload identity: JS and Lua agree', () => {
  it('on generated payloads', async () => {
    await fc.assert(fc.asyncProperty(fc.array(payload, { minLength: 1, maxLength: 25 }), async (ps) => {
      expect(await probe(...ps)).toEqual(ps.map(js));
    }), { numRuns: Number(process.env.IDENTITY_RUNS ?? 400) });
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
      [Buffer.from([0x7b, 0x22, 0x6a, 0x69, 0x64, 0x22, 0x3a, 0x22, 0x61, 0x22, 0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), 'a'],
    ];
    for (const [p, id] of cases) expect([payloadIdentity(p), (await probe(Buffer.from(p)))[0][0]]).toEqual([id, id]);
  });
});
