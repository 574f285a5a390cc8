// Unit tests for src/util/syntax-error.ts: a load error of a JSON, YAML, TypeScript or JavaScript
// file becomes `file:line:column message` (1-based, as editors count); any other error its first line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { afterAll, describe, expect, it } from 'vitest';
import { importModule } from '../../src/util/import-module.js';
import { describeLoadError } from '../../src/util/syntax-error.js';

const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'verk-syntax-')));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** What the load throws, described. */
async function described(file: string, load: (f: string) => Promise<unknown>): Promise<string> {
  const err = await load(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeDefined();
  return describeLoadError(err, file);
}

const viaCosmiconfig = (f: string) => cosmiconfig('verk').load(f);

describe('describeLoadError', () => {
  it.each([
    ['trailing comma', '{\n  "queues": "default:5",\n  "concurrency": 3,\n}\n', 4, 1, 'Expected double-quoted property name'],
    ['bad token (V8 names no position)', '{\n  "queues": "default:5",\n  "concurrency": xyz\n}\n', 3, 18, "Unexpected token 'x'"],
    ['missing comma', '{\n  "a": 1\n  "b": 2\n}\n', 3, 3, "Expected ',' or '}' after property value"],
    ['truncated', '{\n  "a": 1,\n', 3, 1, 'Expected double-quoted property name'],
    ['unclosed array', '{\n  "queues": ["a", "b"\n', 3, 1, "Expected ',' or ']' after array element"],
  ])('JSON, %s', async (_what, text, line, column, message) => {
    const file = write('c.json', text);
    expect(await described(file, viaCosmiconfig)).toBe(`${file}:${line}:${column} ${message}`);
  });

  it('YAML', async () => {
    const file = write('c.yaml', 'queues: default:5\n  concurrency: [3\n');
    expect(await described(file, viaCosmiconfig)).toBe(`${file}:2:14 bad indentation of a mapping entry`);
  });

  it('TypeScript (esbuild through tsx; esbuild counts columns from 0, this from 1)', async () => {
    const file = write('c.ts', 'export default {\n  queues: "default:5",,\n};\n');
    expect(await described(file, importModule)).toBe(`${file}:2:23 Expected identifier but found ","`);
  });

  // Under vitest, import() of JavaScript goes through Vite, which throws its own parse error; the
  // SyntaxError Node's import() throws (no location, only the message) is made here, and the
  // e2e test test/e2e/handler-errors.test.ts loads real broken files with the built binary.
  it.each([
    ['ESM .mjs', 'm.mjs', 'export function perform(a) {\n  return a[0] +;\n}\n', 2, 16],
    ['ESM .js', 'e.js', 'import fs from "node:fs";\nexport const perform = () => fs +;\n', 2, 34],
    ['CommonJS .cjs', 'c.cjs', 'module.exports = {\n\tperform(a) { return a +; },\n};\n', 2, 25],
    ['CommonJS .js', 'r.js', 'const fs = require("node:fs");\nexports.perform = () => fs +;\n', 2, 29],
  ])('JavaScript, %s (located by node --check)', async (_what, name, text, line, column) => {
    const file = write(name, text);
    expect(await describeLoadError(new SyntaxError("Unexpected token ';'"), file)).toBe(`${file}:${line}:${column} Unexpected token ';'`);
  });

  it('an error that is not a syntax error: its first non-empty line', async () => {
    const file = write('t.mjs', 'throw new Error("kaboom at import\\nsecond line");\n');
    expect(await described(file, importModule)).toBe('kaboom at import');
    expect(await describeLoadError('a string', file)).toBe('a string');
  });
});
