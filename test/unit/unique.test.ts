// Unit tests for src/job/unique.ts and its use by the codec and the handler loader: the option's
// checks name the field, keys from functions and paths, the payload member, and a handler whose
// unique option is bad fails to load (verk work) or is a ConfigError naming the file (verk enqueue).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkUniqueOption, uniqueLockFor, uniqueOf, uniqueOptionProblem } from '../../src/job/unique.js';
import { decodeJob, encodeNewJob } from '../../src/job/codec.js';
import { loadHandlerOptions, loadHandlers } from '../../src/core/handlers.js';
import { ConfigError } from '../../src/util/errors.js';
import { silentLogger } from '../../src/util/logger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function jobsDir(files: Record<string, string>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'verk-unique-')));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

describe('the unique option', () => {
  it('accepts a key function or path and until started/done/ttl', () => {
    for (const o of [
      { key: () => 'x' },
      { key: 'args[0]', until: 'started' },
      { key: 'args[0].account[2]', until: 'done' },
      { key: 'args', until: { ttl: '10m' } },
      { key: 'args[1]', until: { ttl: 500 } },
    ])
      expect(uniqueOptionProblem(o), JSON.stringify(o)).toBeUndefined();
  });

  it('names the field that is wrong', () => {
    expect(uniqueOptionProblem(null)).toBe('options.unique must be an object { key, until }');
    expect(uniqueOptionProblem({ key: 'args[0]', wait: 1 })).toBe('options.unique.wait is not an option (use key and until)');
    expect(uniqueOptionProblem({ key: 42 })).toMatch(/^options\.unique\.key must be a function/);
    expect(uniqueOptionProblem({ key: 'account' })).toMatch(/^options\.unique\.key "account" is not a path into the args/);
    expect(uniqueOptionProblem({ key: 'args[0]', until: 'finished' })).toBe(`options.unique.until "finished" must be 'started', 'done' or { ttl: '10m' }`);
    expect(uniqueOptionProblem({ key: 'args[0]', until: { ttl: 'soon' } })).toMatch(/^options\.unique\.until\.ttl: "soon" is not a duration/);
    expect(uniqueOptionProblem({ key: 'args[0]', until: { ttl: 0 } })).toMatch(/^options\.unique\.until\.ttl 0 must be at least 1ms/);
    expect(() => checkUniqueOption({ key: 'x' })).toThrow(/options\.unique\.key "x"/);
  });

  it('keys: a function result as it is, a path namespaced by the class; ttl in ms', () => {
    expect(uniqueLockFor('R', { key: (a) => `account:${String(a[0])}` }, [42])).toEqual({ key: 'account:42', until: 'done' });
    expect(uniqueLockFor('R', { key: 'args[0].id', until: 'started' }, [{ id: 7 }])).toEqual({ key: 'R:args[0].id=7', until: 'started' });
    expect(uniqueLockFor('R', { key: 'args[1]', until: { ttl: '10m' } }, [0, 'x'])).toEqual({ key: 'R:args[1]=x', until: 'ttl', ttl: 600_000 });
    expect(() => uniqueLockFor('R', { key: 'args[0].id' }, [{}])).toThrow('R: options.unique.key args[0].id is undefined in these args, not a string or number');
    expect(() => uniqueLockFor('R', { key: () => 'x'.repeat(600) }, [])).toThrow('R: options.unique.key gave 600 bytes (at most 512)');
    expect(() => uniqueLockFor('R', { key: () => ({}) as unknown as string }, [])).toThrow('R: options.unique.key must return a string, got a object');
  });

  it('the payload carries the lock as verk_unique, which extra cannot set, and the codec reads it back', () => {
    const { payload } = encodeNewJob({ class: 'R', args: [1], jid: 'j1', lock: { key: 'account:1', until: 'done' } }, 1, true);
    expect(payload.endsWith(',"verk_unique":{"key":"account:1","until":"done"}}')).toBe(true);
    const d = decodeJob(payload);
    expect(d.ok && d.job.unique).toEqual({ key: 'account:1', until: 'done' });
    expect(() => encodeNewJob({ class: 'R', extra: { verk_unique: {} } }, 1, true)).toThrow('extra must not set verk_unique');
    expect(uniqueOf({ jid: 'j', verk_unique: { key: 'k', until: 'ttl', ttl: 5 } })).toEqual({ key: 'k', until: 'ttl', ttl: 5 });
    for (const bad of [{ key: '' }, { key: 'k', until: 'x' }, 'k', null]) expect(uniqueOf({ jid: 'j', verk_unique: bad })).toBeUndefined();
    expect(uniqueOf({ jid: 3, verk_unique: { key: 'k', until: 'done' } })).toBeUndefined();
  });
});

describe('handlers with a unique option', () => {
  it('verk work: a bad option is a load error naming the file and the field; a good one is on the handler', async () => {
    const dir = jobsDir({
      'Bad.mjs': "export const options = { unique: { key: 'args[0]', until: 'later' } };\nexport function perform() {}\n",
      'Good.mjs': "export const options = { unique: { key: 'args[0]' } };\nexport function perform() {}\n",
    });
    const reg = await loadHandlers(dir, silentLogger);
    expect(reg.errors).toEqual([expect.objectContaining({ file: path.join(dir, 'Bad.mjs'), error: expect.stringContaining('options.unique.until "later"') })]);
    expect(reg.get('Good')?.unique).toEqual({ key: 'args[0]' });
  });

  it('verk enqueue: the one class module is read; a bad option is a ConfigError naming the file; no module: undefined', async () => {
    const dir = jobsDir({
      'Bad.mjs': 'export const options = { unique: { key: 7 } };\nexport function perform() {}\n',
      'Good.mjs': "export const options = { unique: { key: 'args[0]' } };\nexport function perform() { throw new Error('never called'); }\n",
    });
    expect((await loadHandlerOptions(dir, 'Good'))?.options.unique).toEqual({ key: 'args[0]' });
    const err = await loadHandlerOptions(dir, 'Bad').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(`handler ${path.join(dir, 'Bad.mjs')}: options.unique.key must be a function`);
    expect(await loadHandlerOptions(dir, 'Missing')).toBeUndefined();
    expect(await loadHandlerOptions(path.join(dir, 'nope'), 'Good')).toBeUndefined();
  });
});
