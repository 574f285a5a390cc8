// Unit tests for src/core/handlers.ts: handler discovery, class names, module shapes, options and load errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { classNameFor, findHandlerConflicts, findHandlerFiles, loadHandlers, normalizeClass, type JobContext } from '../../src/core/handlers.js';
import { ConfigError, EXIT } from '../../src/util/errors.js';
import type { Logger } from '../../src/util/logger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function jobsDir(files: Record<string, string>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'verk-handlers-')));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

function recordingLogger(): Logger & { errors: Record<string, unknown>[] } {
  const errors: Record<string, unknown>[] = [];
  const log = { debug() {}, info() {}, warn() {}, error: (msg: string, f?: Record<string, unknown>) => errors.push({ msg, ...f }), child: () => log, errors };
  return log;
}

const ctx = {} as JobContext;
const NAMED_TS = 'export function perform(args: unknown[]): string { return "named:" + JSON.stringify(args); }\n';

describe('classNameFor / normalizeClass', () => {
  it('maps a file path under the handlers dir to a dotted class name', () => {
    expect(classNameFor('/app/jobs', '/app/jobs/Mailers/Welcome.ts')).toBe('Mailers.Welcome');
    expect(classNameFor('/app/jobs', '/app/jobs/A/B/C.mjs')).toBe('A.B.C');
    expect(classNameFor('/app/jobs', '/app/jobs/Top.cjs')).toBe('Top');
  });

  it('strips verk\'s "Elixir." prefix and maps Ruby\'s "::"', () => {
    expect(normalizeClass('Elixir.Mailers.Welcome')).toBe('Mailers.Welcome');
    expect(normalizeClass('Mailers::Welcome')).toBe('Mailers.Welcome');
    expect(normalizeClass('Mailers.Welcome')).toBe('Mailers.Welcome');
    expect(normalizeClass('My.Elixir.Job')).toBe('My.Elixir.Job');
  });
});

describe('findHandlerFiles', () => {
  it('finds .js/.mjs/.cjs/.ts under nested dirs and skips declarations, tests and others', () => {
    const dir = jobsDir({
      'A.js': '',
      'B.mjs': '',
      'C.cjs': '',
      'D.ts': '',
      'Deep/Er/E.ts': '',
      'types.d.ts': '',
      'more.d.mts': '',
      'cj.d.cts': '',
      'D.test.ts': '',
      'B.spec.mjs': '',
      'README.md': '',
      'data.json': '',
      '.hidden/H.ts': '',
      'node_modules/pkg/index.js': '',
    });
    const rel = findHandlerFiles(dir).map((f) => path.relative(dir, f));
    expect(rel).toEqual(['A.js', 'B.mjs', 'C.cjs', 'D.ts', path.join('Deep', 'Er', 'E.ts')]);
  });
});

describe('loadHandlers', () => {
  it('loads handlers from every supported module shape', async () => {
    const dir = jobsDir({
      'Named.ts': NAMED_TS,
      'Mailers/Welcome.ts': 'export default async function (args: unknown[]) { return "welcome:" + args.length; }\n',
      'Obj/Default.ts': 'export default { perform: (a: unknown[]) => "obj:" + a[0], options: { queue: "mail", retry: 3, timeout: "5s" } };\n',
      'Esm.mjs': 'export function perform(a) { return "mjs:" + a[0]; }\nexport const options = { retry: false };\n',
      'Cjs.cjs': 'module.exports = { perform: (a) => "cjs:" + a[0], options: { timeout: 250 } };\n',
      'Plain.js': 'exports.perform = (a) => "js:" + a[0];\n',
    });
    const log = recordingLogger();
    const reg = await loadHandlers(dir, log);
    expect(reg.errors).toEqual([]);
    expect(log.errors).toEqual([]);
    expect(
      reg
        .list()
        .map((h) => h.className)
        .sort(),
    ).toEqual(['Cjs', 'Esm', 'Mailers.Welcome', 'Named', 'Obj.Default', 'Plain']);
    expect(await reg.get('Named')!.perform([1, 'x'], ctx)).toBe('named:[1,"x"]');
    expect(await reg.get('Mailers.Welcome')!.perform([1, 2], ctx)).toBe('welcome:2');
    expect(await reg.get('Obj.Default')!.perform(['o'], ctx)).toBe('obj:o');
    expect(await reg.get('Esm')!.perform(['e'], ctx)).toBe('mjs:e');
    expect(await reg.get('Cjs')!.perform(['c'], ctx)).toBe('cjs:c');
    expect(await reg.get('Plain')!.perform(['p'], ctx)).toBe('js:p');
    expect(reg.get('Obj.Default')).toMatchObject({ queue: 'mail', retry: 3, timeoutMs: 5000, file: path.join(dir, 'Obj', 'Default.ts') });
    expect(reg.get('Esm')).toMatchObject({ retry: false, timeoutMs: undefined });
    expect(reg.get('Cjs')!.timeoutMs).toBe(250);
    expect(reg.get('Named')).toMatchObject({ queue: undefined, retry: undefined, timeoutMs: undefined });
  });

  it('loads ESM .ts and .js handlers in a "type": "module" project', async () => {
    const dir = jobsDir({
      'package.json': '{"type":"module"}',
      'Named.ts': NAMED_TS,
      'Def.ts': 'export default function (a: unknown[]) { return "def:" + a[0]; }\nexport const options = { timeout: "1m" };\n',
      'Esm.js': 'export default { perform: (a) => "esm:" + a[0] };\n',
    });
    const reg = await loadHandlers(dir, recordingLogger());
    expect(reg.errors).toEqual([]);
    expect(await reg.get('Named')!.perform([2], ctx)).toBe('named:[2]');
    expect(await reg.get('Def')!.perform(['d'], ctx)).toBe('def:d');
    expect(reg.get('Def')!.timeoutMs).toBe(60_000);
    expect(await reg.get('Esm')!.perform(['e'], ctx)).toBe('esm:e');
  });

  it('a named perform wins over a default export', async () => {
    const dir = jobsDir({ 'Both.mjs': 'export function perform() { return "named"; }\nexport default function () { return "default"; }\n' });
    const reg = await loadHandlers(dir, recordingLogger());
    expect(await reg.get('Both')!.perform([], ctx)).toBe('named');
  });

  it('looks classes up by verk, Ruby and dotted names only', async () => {
    const dir = jobsDir({ 'Mailers/Welcome.ts': NAMED_TS });
    const reg = await loadHandlers(dir, recordingLogger());
    const h = reg.get('Mailers.Welcome');
    expect(h).toBeDefined();
    expect(reg.get('Elixir.Mailers.Welcome')).toBe(h);
    expect(reg.get('Mailers::Welcome')).toBe(h);
    expect(reg.get('mailers.welcome')).toBeUndefined();
    expect(reg.get('Welcome')).toBeUndefined();
    expect(reg.get('Mailers/Welcome')).toBeUndefined();
    expect(reg.get('../Mailers.Welcome')).toBeUndefined();
  });

  it('reports broken modules with their path and still loads the others', async () => {
    const dir = jobsDir({
      'Good.ts': NAMED_TS,
      'Throws.ts': 'throw new Error("kaboom at import");\nexport function perform() {}\n',
      'NoPerform.mjs': 'export const notPerform = 1;\n',
      'Syntax.mjs': 'export function perform( {\n',
      'BadTimeout.mjs': 'export function perform() {}\nexport const options = { timeout: "soon" };\n',
      'BadRetry.mjs': 'export function perform() {}\nexport const options = { retry: -1 };\n',
      'BadOptions.mjs': 'export function perform() {}\nexport const options = "fast";\n',
    });
    const log = recordingLogger();
    const reg = await loadHandlers(dir, log);
    expect(reg.list().map((h) => h.className)).toEqual(['Good']);
    expect(await reg.get('Good')!.perform([], ctx)).toBe('named:[]');
    const byFile = Object.fromEntries(reg.errors.map((e) => [path.basename(e.file), e.error]));
    expect(Object.keys(byFile).sort()).toEqual(['BadOptions.mjs', 'BadRetry.mjs', 'BadTimeout.mjs', 'NoPerform.mjs', 'Syntax.mjs', 'Throws.ts']);
    expect(reg.errors.every((e) => path.isAbsolute(e.file) && e.file.startsWith(dir))).toBe(true);
    expect(byFile['Throws.ts']).toMatch(/kaboom at import/);
    expect(byFile['NoPerform.mjs']).toMatch(/exports no perform/);
    expect(byFile['BadTimeout.mjs']).toMatch(/not a duration/);
    expect(byFile['BadRetry.mjs']).toMatch(/options\.retry/);
    expect(byFile['BadOptions.mjs']).toMatch(/options/);
    expect(reg.get('Throws')).toBeUndefined();
    expect(log.errors).toHaveLength(6);
    expect(log.errors[0]).toMatchObject({ file: expect.stringContaining(dir) });
  });

  it('an empty handlers dir gives an empty registry', async () => {
    const reg = await loadHandlers(jobsDir({}), recordingLogger());
    expect(reg.list()).toEqual([]);
    expect(reg.errors).toEqual([]);
  });

  it('a job of a class whose file failed to load fails with HandlerLoadError naming the file and the load error', async () => {
    const dir = jobsDir({ 'Good.ts': NAMED_TS, 'Mail/Broken.ts': 'throw new Error("kaboom at import");\nexport function perform() {}\n' });
    const reg = await loadHandlers(dir, recordingLogger());
    for (const name of ['Mail.Broken', 'Elixir.Mail.Broken', 'Mail::Broken']) {
      const err = reg.failureFor(name);
      expect(err.name).toBe('HandlerLoadError');
      expect(err.message).toContain(path.join(dir, 'Mail', 'Broken.ts'));
      expect(err.message).toContain('kaboom at import');
    }
    const unknown = reg.failureFor('Nobody.Home');
    expect(unknown.name).toBe('UnknownJobClass');
    expect(unknown.message).toBe(`no handler for class Nobody.Home in ${dir}`);
  });
  it("a handler with a syntax error: the log line and its jobs' HandlerLoadError carry file:line:column and the message", async () => {
    const dir = jobsDir({ 'Good.ts': NAMED_TS, 'Typo.ts': 'export function perform(args: unknown[]): number {\n  return args.length +;\n}\n' });
    const log = recordingLogger();
    const reg = await loadHandlers(dir, log);
    const detail = `${path.join(dir, 'Typo.ts')}:2:23 Unexpected ";"`;
    expect(log.errors).toEqual([expect.objectContaining({ file: path.join(dir, 'Typo.ts'), error: detail })]);
    expect(reg.failureFor('Typo').message).toBe(`handler file ${path.join(dir, 'Typo.ts')} failed to load: ${detail}`);
    expect(reg.get('Good')).toBeDefined();
  });
});

describe('two handler files for one class', () => {
  it('findHandlerConflicts names every file of each conflicting class, and nothing else', () => {
    const dir = jobsDir({ 'Foo.js': '', 'Foo.ts': '', 'Deep/Bar.mjs': '', 'Deep/Bar.cts': '', 'Deep/Bar.js': '', 'Alone.ts': '', 'foo.ts': '' });
    expect(findHandlerConflicts(dir)).toEqual([
      { className: 'Deep.Bar', files: ['Deep/Bar.cts', 'Deep/Bar.js', 'Deep/Bar.mjs'].map((f) => path.join(dir, f)) },
      { className: 'Foo', files: [path.join(dir, 'Foo.js'), path.join(dir, 'Foo.ts')] },
    ]);
    expect(findHandlerConflicts(jobsDir({ 'A.ts': '', 'B.js': '' }))).toEqual([]);
  });

  it('loadHandlers refuses them with a ConfigError (exit 78) naming both files, loading nothing', async () => {
    const dir = jobsDir({ 'Foo.js': 'exports.perform = () => "js";\n', 'Foo.ts': NAMED_TS, 'Other.ts': NAMED_TS });
    const err = await loadHandlers(dir, recordingLogger()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(EXIT.config);
    expect((err as Error).message).toContain(path.join(dir, 'Foo.js'));
    expect((err as Error).message).toContain(path.join(dir, 'Foo.ts'));
    expect((err as Error).message).toContain('class Foo');
  });
});
