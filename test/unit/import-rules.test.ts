// Imports point one way: cli → runner → core → redis/job → util, and api (the library and the
// admin commands) beside core, never importing it. This file parses every import, `export … from`
// and dynamic import() in src/**/*.ts with the TypeScript parser and fails naming the file, the
// line and the import that breaks the rules below. Tests follow one rule too: only the e2e and
// fault tiers run the built binary (only they build a stale dist/ first). Both checkers are also
// tested on synthetic files.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** What each layer may import besides itself. A new folder under src/ needs a line here. */
const ALLOWED: Record<string, readonly string[]> = {
  cli: ['runner', 'core', 'api', 'web', 'config', 'redis', 'job', 'util', 'version'],
  // The web dashboard: pages and actions on the admin layer (api), never on Redis or the workers directly.
  web: ['api', 'config', 'job', 'util', 'version'],
  runner: ['core', 'redis', 'job', 'config', 'util', 'version'],
  core: ['redis', 'job', 'config', 'util'],
  api: ['redis', 'job', 'config', 'util'],
  redis: ['job', 'util'],
  config: ['job', 'util'],
  job: ['util'],
  util: [],
  // src/index.ts is the package's library entry: no CLI, no supervisor.
  index: ['api', 'web', 'core', 'job', 'config', 'redis', 'util', 'version'],
  version: [],
};

/**
 * Edges allowed in part. redis/ takes its settings as the Config type (reap-options.ts) and may
 * read its default timeouts from config/defaults.ts (defaults live there only), but never loads,
 * layers or validates config (load.ts, schema.ts): its callers pass resolved values.
 */
const PARTIAL: Record<string, { layer: string; values: readonly string[] }> = {
  redis: { layer: 'config', values: ['src/config/defaults.ts'] },
};

interface Import {
  specifier: string;
  line: number;
  typeOnly: boolean;
}

interface Violation {
  file: string;
  line: number;
  specifier: string;
  why: string;
}

/** Every module specifier a file imports or re-exports, statically or with import(). */
function importsOf(file: string, text: string): Import[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Import[] = [];
  const add = (spec: ts.Node, typeOnly: boolean) => {
    if (!ts.isStringLiteralLike(spec)) return;
    found.push({ specifier: spec.text, line: sf.getLineAndCharacterOfPosition(spec.getStart()).line + 1, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const allNamedTypes = !!c && !c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, !!c && (c.isTypeOnly || allNamedTypes));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier, node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0]) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** The layer of a path inside src/ ('src/core/duties/reaper.ts' → 'core'), undefined outside src/. */
function layerOf(file: string): string | undefined {
  const parts = path.posix.normalize(file).split('/');
  if (parts[0] !== 'src' || parts.length < 2) return undefined;
  if (parts.length === 2) return parts[1].replace(/\.(ts|js)$/, '');
  return parts[1];
}

/** The rule violations in a set of files given by path (relative to the repository, 'src/…'). */
function checkImports(files: { path: string; text: string }[]): Violation[] {
  const out: Violation[] = [];
  for (const { path: file, text } of files) {
    const from = layerOf(file);
    if (from === undefined || !(from in ALLOWED)) {
      out.push({ file, line: 1, specifier: '', why: `${file} is in no known layer: add its folder to ALLOWED in test/unit/import-rules.test.ts` });
      continue;
    }
    for (const imp of importsOf(file, text)) {
      if (!imp.specifier.startsWith('.')) continue; // node: built-ins and packages
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), imp.specifier));
      const to = layerOf(target);
      const v = { file, line: imp.line, specifier: imp.specifier };
      if (to === undefined) out.push({ ...v, why: `reaches outside src/ (${target})` });
      else if (to === from || ALLOWED[from].includes(to)) continue;
      else if (PARTIAL[from]?.layer === to) {
        const { values } = PARTIAL[from];
        if (!imp.typeOnly && !values.includes(target.replace(/\.js$/, '.ts'))) {
          out.push({ ...v, why: `${from} → ${to} is allowed for types, and for values from ${values.join(', ')} only: use \`import type\`` });
        }
      } else out.push({ ...v, why: `${from} → ${to} is not allowed: ${from} may import ${ALLOWED[from].join(', ') || 'nothing in src/'}` });
    }
  }
  return out;
}

/** The tiers whose files may run the built binary: their global setup rebuilds a stale dist/. */
const BINARY_TIERS = ['e2e', 'fault'];
/** Every way a test runs bin/verk.js goes through this helper. */
const BINARY_HELPER = 'test/helpers/cli.ts';

/** True when a string literal in the file is a path to bin/verk.js. */
function namesBinary(file: string, text: string): boolean {
  let found = false;
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) && /(^|\/)bin\/verk\.js$/.test(node.text)) found = true;
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS));
  return found;
}

/** Test files outside the binary tiers that run the binary, directly or through other helpers. */
function checkTiers(files: { path: string; text: string }[]): string[] {
  const deps = new Map<string, string[]>();
  for (const f of files) {
    const local = importsOf(f.path, f.text).filter((i) => i.specifier.startsWith('.'));
    deps.set(
      f.path,
      local.map((i) => path.posix.normalize(path.posix.join(path.posix.dirname(f.path), i.specifier)).replace(/\.js$/, '.ts')),
    );
  }
  const via = (file: string, seen = new Set<string>()): string | undefined => {
    for (const dep of deps.get(file) ?? []) {
      if (dep === BINARY_HELPER) return file;
      if (seen.has(dep)) continue;
      seen.add(dep);
      if (via(dep, seen)) return dep;
    }
    return undefined;
  };
  const out: string[] = [];
  for (const f of files) {
    const tier = f.path.split('/')[1];
    if (!f.path.endsWith('.test.ts') || BINARY_TIERS.includes(tier)) continue;
    const through = namesBinary(f.path, f.text) ? f.path : via(f.path);
    if (through) out.push(`${f.path} runs the built binary (${through === f.path ? 'directly' : `through ${through}`}): move it to test/e2e or test/fault`);
  }
  return out;
}

const format = (v: Violation) => `${v.file}:${v.line} '${v.specifier}': ${v.why}`;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sourceFiles(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

describe('import direction in src/', () => {
  const files = sourceFiles('src').map((p) => ({ path: p, text: fs.readFileSync(path.join(ROOT, p), 'utf8') }));

  it('every import in src/ follows the layer rules', () => {
    expect(checkImports(files).map(format)).toEqual([]);
  });

  it('the scan sees the imports (so an empty result means something)', () => {
    const local = files.flatMap((f) => importsOf(f.path, f.text)).filter((i) => i.specifier.startsWith('.'));
    expect(files.length).toBeGreaterThan(50);
    expect(local.length).toBeGreaterThan(150);
  });
});

describe('the import checker', () => {
  const check = (file: string, text: string) => checkImports([{ path: file, text }]).map(format);

  it('flags api importing core, statically or re-exported', () => {
    expect(check('src/api/x.ts', "import { Settler } from '../core/settler.js';")).toEqual([
      "src/api/x.ts:1 '../core/settler.js': api → core is not allowed: api may import redis, job, config, util",
    ]);
    expect(check('src/api/x.ts', "\nexport { runJob } from '../core/job-run.js';")).toHaveLength(1);
    expect(check('src/api/x.ts', "import type { Handler } from '../core/handlers.js';")).toHaveLength(1);
  });

  it('flags a dynamic import() and an import type query', () => {
    expect(check('src/util/x.ts', "const m = await import('../core/handlers.js');")).toEqual([
      "src/util/x.ts:1 '../core/handlers.js': util → core is not allowed: util may import nothing in src/",
    ]);
    expect(check('src/job/x.ts', "let h: import('../redis/keys.js').Keys;")).toHaveLength(1);
  });

  it('lets redis use config for types and for the defaults, never for loading or parsing', () => {
    expect(check('src/redis/x.ts', "import type { Config } from '../config/schema.js';")).toEqual([]);
    expect(check('src/redis/x.ts', "import { type Config } from '../config/schema.js';")).toEqual([]);
    expect(check('src/redis/x.ts', "import { DEFAULTS } from '../config/defaults.js';")).toEqual([]);
    expect(check('src/redis/x.ts', "import { validateValue } from '../config/schema.js';")).toEqual([
      "src/redis/x.ts:1 '../config/schema.js': redis → config is allowed for types, and for values from src/config/defaults.ts only: use `import type`",
    ]);
  });

  it('allows the downward edges, imports inside a layer, packages and built-ins', () => {
    const text = [
      "import fs from 'node:fs';",
      "import { Redis } from 'ioredis';",
      "import { Scripts } from '../../redis/scripts.js';",
      "import { Ticker } from '../../util/ticker.js';",
      "import { runJob } from '../job-run.js';",
    ].join('\n');
    expect(check('src/core/duties/x.ts', text)).toEqual([]);
    expect(check('src/cli/x.ts', "import { Supervisor } from '../runner/supervisor.js';\nimport { VERSION } from '../version.js';")).toEqual([]);
    expect(check('src/index.ts', "export { Client } from './api/client.js';")).toEqual([]);
  });

  it('flags upward edges, the library entry reaching the CLI, and paths leaving src/', () => {
    expect(check('src/core/x.ts', "import { Supervisor } from '../runner/supervisor.js';")).toHaveLength(1);
    expect(check('src/runner/x.ts', "import { main } from '../cli/main.js';")).toHaveLength(1);
    expect(check('src/index.ts', "export { main } from './cli/main.js';")).toHaveLength(1);
    expect(check('src/version.ts', "import { VERSION } from '../package.json';")).toEqual(["src/version.ts:1 '../package.json': reaches outside src/ (package.json)"]);
  });

  it('ignores import text in comments and strings, and names a file outside every layer', () => {
    expect(check('src/util/x.ts', "// import { x } from '../core/a.js';\nconst s = \"import('../core/b.js')\";")).toEqual([]);
    expect(check('src/plugins/x.ts', '')).toEqual([
      "src/plugins/x.ts:1 '': src/plugins/x.ts is in no known layer: add its folder to ALLOWED in test/unit/import-rules.test.ts",
    ]);
  });
});

describe('the test tiers', () => {
  it('only e2e and fault tests run the built binary', () => {
    const files = sourceFiles('test').map((p) => ({ path: p, text: fs.readFileSync(path.join(ROOT, p), 'utf8') }));
    expect(checkTiers(files)).toEqual([]);
  });

  it('the tier checker flags an integration test that runs the binary, directly or through a helper', () => {
    const cli = { path: BINARY_HELPER, text: "export const VERK_BIN = 'bin/verk.js';" };
    const kit = { path: 'test/helpers/kit.ts', text: "import { verk } from './cli.js';" };
    const files = [
      cli,
      kit,
      { path: 'test/integration/a.test.ts', text: "import { verk } from '../helpers/cli.js';" },
      { path: 'test/property/b.test.ts', text: "import { start } from '../helpers/kit.js';" },
      { path: 'test/unit/c.test.ts', text: "const bin = new URL('../../bin/verk.js', import.meta.url);" },
      { path: 'test/e2e/d.test.ts', text: "import { verk } from '../helpers/cli.js';" },
      { path: 'test/integration/e.test.ts', text: "import { startRedis } from '../helpers/redis-server.js';" },
    ];
    expect(checkTiers(files)).toEqual([
      'test/integration/a.test.ts runs the built binary (directly): move it to test/e2e or test/fault',
      'test/property/b.test.ts runs the built binary (through test/helpers/kit.ts): move it to test/e2e or test/fault',
      'test/unit/c.test.ts runs the built binary (directly): move it to test/e2e or test/fault',
    ]);
  });
});
