// Unit tests for src/job/raw-json.ts: text-level edits of a JSON object that keep untouched bytes.
import { describe, expect, it } from 'vitest';
import { patchJson, rawMember, topLevelMembers } from '../../src/job/raw-json.js';

const SIDEKIQ =
  '{"retry":true,"queue":"default","class":"MyJob","args":[1,"two",{"x":3}],"jid":"c9f1d4517ea30655e74cf421","created_at":1795388709.9226692,"enqueued_at":1795388709.9229732}';

describe('topLevelMembers', () => {
  it('lists the keys of a Sidekiq payload in order', () => {
    expect(topLevelMembers(SIDEKIQ).map((m) => m.key)).toEqual(['retry', 'queue', 'class', 'args', 'jid', 'created_at', 'enqueued_at']);
  });

  it('gives exact value slices, whatever the whitespace', () => {
    const raw = '\n {\n\t"a" :  [1, 2] ,\r\n  "b":{ "c" : "}" }  \n}\n';
    const ms = topLevelMembers(raw);
    expect(ms.map((m) => m.key)).toEqual(['a', 'b']);
    expect(ms.map((m) => raw.slice(m.valueStart, m.end))).toEqual(['[1, 2]', '{ "c" : "}" }']);
  });

  it('decodes escaped keys', () => {
    expect(topLevelMembers('{"caf\\u00e9":1,"a\\"b":2}').map((m) => m.key)).toEqual(['café', 'a"b']);
  });

  it('returns nothing for an empty object', () => {
    expect(topLevelMembers('{}')).toEqual([]);
    expect(topLevelMembers(' { } ')).toEqual([]);
  });

  it.each(['[1,2]', '"text"', '42', 'null', 'true', 'not json', '{"a":1', ''])('throws for %j', (raw) => {
    expect(() => topLevelMembers(raw)).toThrow();
  });
});

describe('rawMember', () => {
  it('returns the exact text of big integers, escapes, emoji and nested empties', () => {
    const raw = '{"big":12345678901234567890123,"s":"caf\\u00e9 \\ud83d\\ude00 😀","e":[],"o":{},"n":[[],{"k":[{}]}],"f":-1.50e+3}';
    expect(rawMember(raw, 'big')).toBe('12345678901234567890123');
    expect(rawMember(raw, 's')).toBe('"caf\\u00e9 \\ud83d\\ude00 😀"');
    expect(rawMember(raw, 'e')).toBe('[]');
    expect(rawMember(raw, 'o')).toBe('{}');
    expect(rawMember(raw, 'n')).toBe('[[],{"k":[{}]}]');
    expect(rawMember(raw, 'f')).toBe('-1.50e+3');
  });

  it('is not fooled by braces, brackets, commas, quotes and backslashes inside strings', () => {
    const raw = '{"a":"x,}]{[\\"y\\\\","b":["},",{"q":"\\\\\\""}],"c":true}';
    expect(rawMember(raw, 'a')).toBe('"x,}]{[\\"y\\\\"');
    expect(rawMember(raw, 'b')).toBe('["},",{"q":"\\\\\\""}]');
    expect(rawMember(raw, 'c')).toBe('true');
    expect(JSON.parse(rawMember(raw, 'a')!)).toBe('x,}]{["y\\');
  });

  it('trims whitespace after a value and returns undefined for a missing key', () => {
    expect(rawMember('{"a" : null  ,"b":1 }', 'a')).toBe('null');
    expect(rawMember('{"a":1}', 'b')).toBeUndefined();
  });

  it('only looks at the top level', () => {
    expect(rawMember('{"outer":{"jid":"inner"}}', 'jid')).toBeUndefined();
  });

  it('does not confuse a key that is a prototype property name', () => {
    expect(rawMember('{"a":1}', 'constructor')).toBeUndefined();
    expect(rawMember('{"constructor":[]}', 'constructor')).toBe('[]');
  });
});

describe('patchJson', () => {
  it('keeps every untouched member byte for byte', () => {
    const raw = '{"args":[12345678901234567890123,"caf\\u00e9","😀",[],{}],"tags":{"a":[ ]},"odd":"}{,\\"\\\\","jid":"j1"}';
    const out = patchJson(raw, { jid: 'j2' });
    expect(out).toBe('{"args":[12345678901234567890123,"caf\\u00e9","😀",[],{}],"tags":{"a":[ ]},"odd":"}{,\\"\\\\","jid":"j2"}');
    expect(rawMember(out, 'args')).toBe(rawMember(raw, 'args'));
  });

  it('replaces a value in place, keeping key order', () => {
    const out = patchJson(SIDEKIQ, { queue: 'mail' });
    expect(topLevelMembers(out).map((m) => m.key)).toEqual(topLevelMembers(SIDEKIQ).map((m) => m.key));
    expect(out).toBe(SIDEKIQ.replace('"queue":"default"', '"queue":"mail"'));
  });

  it('appends new keys at the end in the order given', () => {
    const out = patchJson('{"a":1}', { b: [1, 'x'], c: { d: null } });
    expect(out).toBe('{"a":1,"b":[1,"x"],"c":{"d":null}}');
  });

  it('removes keys whose new value is undefined', () => {
    expect(patchJson('{"a":1,"at":2,"b":3}', { at: undefined })).toBe('{"a":1,"b":3}');
    expect(patchJson('{"at":2}', { at: undefined })).toBe('{}');
    expect(patchJson('{"a":1}', { missing: undefined })).toBe('{"a":1}');
  });

  it('writes null and false values (they are not removals)', () => {
    expect(patchJson('{"a":1}', { a: null, b: false })).toBe('{"a":null,"b":false}');
  });

  it('collapses a duplicated key it changes to one member', () => {
    const out = patchJson('{"retry_count":0,"x":1,"retry_count":1}', { retry_count: 2 });
    expect(out).toBe('{"retry_count":2,"x":1}');
    expect(JSON.parse(out)).toEqual({ retry_count: 2, x: 1 });
  });

  it('removes every copy of a duplicated key', () => {
    expect(patchJson('{"a":1,"a":2,"b":3}', { a: undefined })).toBe('{"b":3}');
  });

  it('handles payloads with whitespace and an empty object', () => {
    expect(patchJson('  {\n  "a": [ 1 ],\n  "b": "x"\n}\n', { b: 'y' })).toBe('{"a": [ 1 ],"b":"y"}');
    expect(patchJson('{}', { a: 1 })).toBe('{"a":1}');
    expect(patchJson('{ }', {})).toBe('{}');
  });

  it('keeps keys named like Object.prototype members untouched', () => {
    const raw = '{"constructor":"c","toString":[],"__proto__":{"x":1},"a":1}';
    const out = patchJson(raw, { a: 2 });
    expect(out).toBe('{"constructor":"c","toString":[],"__proto__":{"x":1},"a":2}');
    expect(() => JSON.parse(out)).not.toThrow();
  });

  it('always returns valid JSON that parses to the expected object', () => {
    const raw = '{"n":1.0,"s":"a\\/b","arr":[1,[2,[3]]]}';
    const out = patchJson(raw, { s: 'c', extra: 'é' });
    expect(JSON.parse(out)).toEqual({ n: 1, s: 'c', arr: [1, [2, [3]]], extra: 'é' });
    expect(out.startsWith('{"n":1.0,')).toBe(true);
  });

  it.each(['[{"a":1}]', 'null', '"{}"', '{"a":'])('throws for non-object input %j', (raw) => {
    expect(() => patchJson(raw, { a: 1 })).toThrow();
  });
});
