// The Lua layer as a checked contract: every lua/*.lua is named <intent>-<numKeys>.lua, its
// header documents exactly KEYS[1..numKeys] and its body (after includes) uses exactly those,
// every ARGV the body reads is documented, keys built from the prefix are named in the header,
// every include resolves (an unknown one or a cycle is an error at load), and scripts and
// typed wrappers match one to one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INCLUDE_LINE, LUA_DIR, SCRIPT_FILE, camel, scriptSources } from '../../src/redis/script-source.js';
import { WRAPPED_SCRIPTS } from '../../src/redis/scripts.js';
import { FAIL_STATUS, FETCH_STATUS, REAP_STATUS, statusOf } from '../../src/redis/statuses.js';

const files = fs
  .readdirSync(LUA_DIR)
  .filter((f) => f.endsWith('.lua'))
  .sort();
const sources = new Map(scriptSources().map((s) => [s.file, s]));

/** Lua text without comments (quotes respected), so only code is scanned. */
function code(lua: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < lua.length; i++) {
    const c = lua[i];
    if (quote) {
      out += c;
      if (c === '\\') out += lua[++i] ?? '';
      else if (c === quote) quote = null;
    } else if (c === '-' && lua[i + 1] === '-') {
      while (i < lua.length && lua[i] !== '\n') i++;
      out += '\n';
    } else {
      if (c === '"' || c === "'") quote = c;
      out += c;
    }
  }
  return out;
}

const header = (text: string) => text.split('\n').filter((l) => l.startsWith('--'));
const numbers = (text: string, re: RegExp) => [...text.matchAll(re)].map((m) => Number(m[1]));

describe('lua/ contract', () => {
  it('has scripts to check', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of files) {
    describe(file, () => {
      const text = fs.readFileSync(path.join(LUA_DIR, file), 'utf8');
      const m = SCRIPT_FILE.exec(file);
      const numKeys = Number(m?.[2]);
      const body = code(sources.get(file)?.lua ?? '');
      const head = header(text);

      it("matches the loader's file-name pattern", () => {
        expect(m, `${file} must be <intent>-<numKeys>.lua`).not.toBeNull();
      });

      it('documents KEYS[1..n] in its header, n = the key count in its name', () => {
        const documented = numbers(head.join('\n'), /^-- KEYS\[(\d+)\]/gm);
        expect(documented).toEqual(Array.from({ length: numKeys }, (_, i) => i + 1));
      });

      it('uses exactly KEYS[1..n] in its body (after includes), by literal index', () => {
        expect(body, 'KEYS indexed by a variable cannot be checked').not.toMatch(/KEYS\[[^\d\]]/);
        const used = [...new Set(numbers(body, /KEYS\[(\d+)\]/g))].sort((a, b) => a - b);
        expect(used).toEqual(Array.from({ length: numKeys }, (_, i) => i + 1));
      });

      it('documents every ARGV its body reads', () => {
        const doc = head.join('\n');
        const single = new Set(numbers(doc, /^-- ARGV\[(\d+)\](?!\.\.)/gm));
        const from = numbers(doc, /^-- ARGV\[(\d+)\.\.\]/gm);
        const documented = (n: number) => single.has(n) || from.some((f) => n >= f);
        for (const n of new Set(numbers(body, /ARGV\[(\d+)\]/g))) expect(documented(n), `ARGV[${n}] is not documented`).toBe(true);
        if (/ARGV\[[^\d\]]/.test(body)) expect(from.length, 'ARGV indexed by a variable needs a documented ARGV[k..] range').toBeGreaterThan(0);
      });

      it('names the keys it builds from the prefix (itself or in an include) in its header', () => {
        const builds = /(?:prefix|ARGV\[1\])\s*\.\./.test(body);
        expect(
          head.some((l) => l.includes('Built from the prefix')),
          builds ? 'builds keys from the prefix: say which' : 'builds no key from the prefix',
        ).toBe(builds);
      });

      it('names its return value, and every include it uses exists', () => {
        expect(head.some((l) => /^-- Returns/.test(l))).toBe(true);
        for (const [, inc] of text.matchAll(INCLUDE_LINE)) expect(fs.existsSync(path.join(LUA_DIR, 'include', `${inc}.lua`)), inc).toBe(true);
        expect(body).not.toMatch(/^-- @include/m);
      });
    });
  }

  it('every script has a typed wrapper and every wrapper a script', () => {
    expect([...scriptSources().map((s) => s.name)].sort()).toEqual([...WRAPPED_SCRIPTS].sort());
    expect(files.map((f) => camel(SCRIPT_FILE.exec(f)![1])).sort()).toEqual([...WRAPPED_SCRIPTS].sort());
  });

  it('inlines every include, recursively; an unknown include or a cycle is an error naming the script', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verk-lua-'));
    try {
      fs.mkdirSync(path.join(dir, 'include'));
      fs.writeFileSync(path.join(dir, 'include', 'a.lua'), '-- @include b\nlocal a = 1\n');
      fs.writeFileSync(path.join(dir, 'include', 'b.lua'), 'local b = 2\n');
      fs.writeFileSync(path.join(dir, 'two-1.lua'), '-- @include a\n-- @include b\nreturn KEYS[1]\n');
      expect(scriptSources(dir)[0].lua).toBe('local b = 2\nlocal a = 1\nlocal b = 2\nreturn KEYS[1]\n');
      fs.writeFileSync(path.join(dir, 'bad-0.lua'), '-- @include nope\nreturn 1\n');
      expect(() => scriptSources(dir)).toThrow('lua/bad-0.lua: unknown include "nope"');
      fs.rmSync(path.join(dir, 'bad-0.lua'));
      fs.writeFileSync(path.join(dir, 'include', 'b.lua'), '-- @include a\n');
      expect(() => scriptSources(dir)).toThrow(/lua\/two-1\.lua: include cycle a -> b -> a/);
      fs.writeFileSync(path.join(dir, 'include', 'b.lua'), 'local b = 2\n');
      fs.writeFileSync(path.join(dir, 'Bad_Name.lua'), 'return 1\n');
      expect(() => scriptSources(dir)).toThrow(/Bad_Name\.lua: name must be/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names raw statuses through one table; an unknown one is an error, never a default', () => {
    expect(statusOf('fetch', FETCH_STATUS, -1)).toBe('fenced');
    expect(statusOf('fail', FAIL_STATUS, 0)).toBe('not_held');
    expect(statusOf('reap', REAP_STATUS, Buffer.from('wrongtype'))).toBe('wrongtype');
    expect(() => statusOf('fetch', FETCH_STATUS, 2)).toThrow('fetch: unknown status "2"');
    expect(() => statusOf('reap', REAP_STATUS, 'toString')).toThrow(/unknown status/);
  });
});
