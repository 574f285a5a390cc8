// Turns a module's or config file's load error into one line an operator can act on:
// `file:line:column message` (line and column 1-based, as editors count them) for a syntax error
// in JSON, YAML, TypeScript (esbuild via tsx) or JavaScript; the error's first line otherwise.
// Node's own ESM SyntaxError carries no location, so a broken .js is re-checked with
// `node --check` (bounded by a timeout) only after it has failed to load.
import { execFile } from 'node:child_process';
import fs from 'node:fs';

const CHECK_TIMEOUT_MS = 10_000;

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** `file:line:column message` for a syntax error, else the error's first line. */
export async function describeLoadError(err: unknown, file: string): Promise<string> {
  const loc = await locateSyntaxError(err, file);
  if (loc) return `${loc.file}:${loc.line}:${loc.column} ${loc.message}`;
  if (!isErrorLike(err)) return String(err);
  return err.message.split('\n').find((l) => l.trim() !== '') ?? err.name;
}

/** Where a syntax error is, when `err` is one and its location can be found. */
export async function locateSyntaxError(err: unknown, file: string): Promise<SourceLocation | undefined> {
  if (!isErrorLike(err)) return undefined;
  const e = err as Error & { mark?: { line?: number; column?: number }; reason?: string; filepath?: string };
  const where = e.filepath ?? file;
  if (e.name === 'YAMLException' && e.mark && typeof e.mark.line === 'number' && typeof e.mark.column === 'number') {
    return { file: where, line: e.mark.line + 1, column: e.mark.column + 1, message: e.reason ?? 'YAML syntax error' };
  }
  if (e.name === 'JSONError' || (/\.json$/i.test(where) && e.message.startsWith('JSON Error'))) return locateJson(where);
  const esbuild = /^(.+?):(\d+):(\d+): ERROR: (.+)$/m.exec(e.message);
  if (esbuild && e.message.startsWith('Transform failed')) {
    // esbuild counts columns from 0.
    return { file: esbuild[1], line: Number(esbuild[2]), column: Number(esbuild[3]) + 1, message: esbuild[4] };
  }
  if (e.name === 'SyntaxError' && /\.[cm]?js$/.test(where)) return checkJs(where, e.message);
  return undefined;
}

/** An Error, also one from another realm (a vm context, a test runner's sandbox). */
function isErrorLike(err: unknown): err is Error {
  return typeof err === 'object' && err !== null && typeof (err as Error).message === 'string' && typeof (err as Error).name === 'string';
}

/** Re-parses a JSON file to find the offset V8 reports, as a line and column. */
function locateJson(file: string): SourceLocation | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch {
    return undefined;
  }
  const first = jsonError(text);
  if (!first) return undefined;
  const message = first.message
    .replace(/\s*\(line \d+ column \d+\)/, '')
    .replace(/ in JSON at position \d+/, '')
    .replace(/, (".*"|\.\.\.".*"|".*"\.\.\.) is not valid JSON$/s, '');
  const before = text.slice(0, jsonErrorOffset(text, first)).split('\n');
  return { file, line: before.length, column: before[before.length - 1].length + 1, message };
}

function jsonError(text: string): SyntaxError | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    return err instanceof SyntaxError ? err : undefined;
  }
}

/**
 * The offset of a JSON syntax error. V8 names it (`at position N`) except for an unexpected
 * token; then it is found by bisection: every prefix shorter than the bad token parses or fails
 * only at its end, every longer one fails before its end.
 */
function jsonErrorOffset(text: string, err: SyntaxError): number {
  const named = /at position (\d+)/.exec(err.message);
  if (named) return Number(named[1]);
  if (!err.message.startsWith('Unexpected token')) return text.length;
  const failsBeforeEnd = (k: number): boolean => {
    const e = jsonError(text.slice(0, k));
    if (!e || e.message.startsWith('Unexpected end')) return false;
    const at = /at position (\d+)/.exec(e.message);
    return at ? Number(at[1]) < k : true;
  };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsBeforeEnd(mid)) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(0, lo - 1);
}

/**
 * Re-parses a JavaScript file with `node --check` (source on stdin, as ESM and as CommonJS): it
 * prints `[stdin]:LINE`, the source line, a caret under the column, then the error. The parse
 * whose message is the one the import failed with wins (a .js may be either kind).
 */
async function checkJs(file: string, original: string): Promise<SourceLocation | undefined> {
  let source: string;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const kinds = file.endsWith('.cjs') ? ['commonjs'] : file.endsWith('.mjs') ? ['module'] : ['module', 'commonjs'];
  const found: SourceLocation[] = [];
  for (const kind of kinds) {
    const loc = await nodeCheck(file, source, kind);
    if (loc?.message === original) return loc;
    if (loc) found.push(loc);
  }
  return found[0];
}

function nodeCheck(file: string, source: string, kind: string): Promise<SourceLocation | undefined> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [`--input-type=${kind}`, '--check'], { timeout: CHECK_TIMEOUT_MS, encoding: 'utf8', env: {} }, (error, _out, stderr) => {
      if (!error) return resolve(undefined);
      const lines = stderr.split('\n');
      const head = lines.findIndex((l) => /^\[stdin\]:\d+$/.test(l));
      const message = lines.find((l) => l.startsWith('SyntaxError: '))?.slice('SyntaxError: '.length);
      if (head < 0 || message === undefined) return resolve(undefined);
      const caret = lines[head + 2]?.indexOf('^') ?? -1;
      resolve({ file, line: Number(lines[head].slice('[stdin]:'.length)), column: caret >= 0 ? caret + 1 : 1, message });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(source);
  });
}
