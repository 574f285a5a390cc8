// Reads the Lua scripts: lua/<intent>-<numKeys>.lua, with every `-- @include name` line
// replaced (recursively) by lua/include/name.lua. An unknown include or an include cycle is an
// error at load naming the script and the include.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const LUA_DIR = fileURLToPath(new URL('../../lua/', import.meta.url));
/** The loader's file-name pattern: intent (lowercase words joined by '-'), '-', key count. */
export const SCRIPT_FILE = /^([a-z]+(?:-[a-z]+)*)-(\d+)\.lua$/;
export const INCLUDE_LINE = /^-- @include ([a-z][a-z0-9-]*)[ \t]*$/gm;

export interface ScriptSource {
  /** Command name: the intent in camelCase (requeue-orphan-2.lua → requeueOrphan). */
  name: string;
  file: string;
  numberOfKeys: number;
  /** Body with includes inlined. */
  lua: string;
}

let cache: ScriptSource[] | undefined;

/** Every script in lua/, with includes resolved. */
export function scriptSources(dir = LUA_DIR): ScriptSource[] {
  if (cache && dir === LUA_DIR) return cache;
  const out = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.lua'))
    .sort()
    .map((file) => {
      const m = SCRIPT_FILE.exec(file);
      if (!m) throw new Error(`lua/${file}: name must be <intent>-<numKeys>.lua (lowercase words joined by '-')`);
      const lua = inlineIncludes(file, fs.readFileSync(path.join(dir, file), 'utf8'), dir, []);
      return { name: camel(m[1]), file, numberOfKeys: Number(m[2]), lua };
    });
  if (dir === LUA_DIR) cache = out;
  return out;
}

/** `text` with every include line replaced by the include's own (inlined) text. */
export function inlineIncludes(script: string, text: string, dir: string, stack: string[]): string {
  return text.replace(INCLUDE_LINE, (_line, inc: string) => {
    if (stack.includes(inc)) throw new Error(`lua/${script}: include cycle ${[...stack, inc].join(' -> ')}`);
    const file = path.join(dir, 'include', `${inc}.lua`);
    if (!fs.existsSync(file)) throw new Error(`lua/${script}: unknown include "${inc}" (no lua/include/${inc}.lua)`);
    return inlineIncludes(script, fs.readFileSync(file, 'utf8'), dir, [...stack, inc]).replace(/\n$/, '');
  });
}

export const camel = (s: string) => s.replace(/-([a-z])/g, (_x, c: string) => c.toUpperCase());
