// The error_class catalogue (src/job/error-classes.ts) against the code: every error_class
// literal in lua/*.lua and src/**/*.ts, and every error name verk sets, must be listed, so a new
// class in a Lua script or a handler path cannot drift from the catalogue and the docs.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CLASS, ERROR_CLASS_MEANING, isKnownErrorClass } from '../../src/job/error-classes.js';
import { TimeoutError, toError } from '../../src/util/errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function filesUnder(dir: string, ext: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => path.join(e.parentPath, e.name));
}

/** [file, literal] for every error class spelled out in a source file. */
function literals(files: string[], patterns: RegExp[]): [string, string][] {
  const out: [string, string][] = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    for (const re of patterns) for (const m of text.matchAll(re)) out.push([path.relative(ROOT, file), m[1]]);
  }
  return out;
}

// error_class followed by a quoted value: `error_class: 'X'`, `{ 'error_class', '"X"' }`, `error_class = "X"`.
const ERROR_CLASS_LITERAL = /error_class['"]?\s*[,:=]\s*['"`]{1,2}([A-Za-z_][\w:]*)/g;
// `err.name = 'X'` and the name argument of a VerkError subclass: `super(message, EXIT.x, 'X')`.
const NAME_LITERAL = /\.name\s*=\s*['"`]([A-Za-z_][\w:]*)['"`]/g;
const VERK_LITERAL = /['"`](Verk::\w+)['"`]/g;

describe('error_class catalogue', () => {
  it('every error_class literal in lua/*.lua is catalogued', () => {
    const found = literals(filesUnder('lua', '.lua'), [ERROR_CLASS_LITERAL, VERK_LITERAL]);
    expect(found.map(([, c]) => c)).toContain('Verk::PoisonPill'); // the scan itself works
    expect(found.filter(([, c]) => !isKnownErrorClass(c))).toEqual([]);
  });

  it('every error_class, err.name and Verk:: literal in src/**/*.ts is catalogued', () => {
    const files = filesUnder('src', '.ts').filter((f) => !f.endsWith(path.join('job', 'error-classes.ts')));
    const found = literals(files, [ERROR_CLASS_LITERAL, NAME_LITERAL, VERK_LITERAL]);
    expect(found.filter(([, c]) => !isKnownErrorClass(c))).toEqual([]);
  });

  it('the names of the errors a job can fail with are catalogued', () => {
    expect(isKnownErrorClass(new TimeoutError('x').name)).toBe(true);
    expect(isKnownErrorClass(toError('plain string').name)).toBe(true);
    expect(isKnownErrorClass(toError({ a: 1 }).name)).toBe(true);
  });

  it('has a one-line meaning for every class and a constant for every meaning', () => {
    expect(Object.keys(ERROR_CLASS_MEANING).sort()).toEqual(Object.values(ERROR_CLASS).sort());
    for (const meaning of Object.values(ERROR_CLASS_MEANING)) {
      expect(meaning.length).toBeGreaterThan(20);
      expect(meaning).not.toContain('\n');
    }
  });
});
