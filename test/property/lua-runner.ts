// Runs the Lua scripts of lua/ by raw EVALSHA with Buffer arguments and Buffer replies, so the
// property tests see exact bytes (invalid UTF-8 included) and do not depend on the typed
// wrappers of src/redis/scripts.ts. Reads each script's KEYS/ARGV from its header comment.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { scriptSources } from '../../src/redis/scripts.js';

export type Arg = string | number | Buffer;
/** A reply with every bulk string as a Buffer (integers stay numbers). */
export type Reply = number | Buffer | null | Reply[];

export interface Header {
  keys: string[];
  argv: string[];
}

interface Loaded {
  lua: string;
  sha: string;
  numberOfKeys: number;
  header: Header;
}

/** `-- KEYS[n] text` / `-- ARGV[n] text` (or `ARGV[3..]`) lines of a script's header. */
export function parseHeader(lua: string): Header {
  const keys: string[] = [];
  const argv: string[] = [];
  for (const m of lua.matchAll(/^-- (KEYS|ARGV)\[(\d+)(\.\.)?\]\s*(.*)$/gm)) {
    (m[1] === 'KEYS' ? keys : argv)[Number(m[2]) - 1] = `${m[3] ? '..' : ''}${m[4]}`;
  }
  return { keys, argv };
}

let loaded: Map<string, Loaded> | undefined;

/** Every script by its camelCase name (fetch, ack, requeueOrphan, ...). */
export function scripts(): Map<string, Loaded> {
  if (loaded) return loaded;
  loaded = new Map();
  for (const s of scriptSources()) {
    loaded.set(s.name, {
      lua: s.lua,
      sha: createHash('sha1').update(s.lua).digest('hex'),
      numberOfKeys: s.numberOfKeys,
      header: parseHeader(s.lua),
    });
  }
  return loaded;
}

export function header(name: string): Header {
  const s = scripts().get(name);
  if (!s) throw new Error(`no script lua/${name}-N.lua`);
  return s.header;
}

/** Runs one script; throws the Redis error if the script failed. */
export async function runScript(redis: Redis, name: string, keys: Arg[], argv: Arg[]): Promise<Reply> {
  const s = scripts().get(name);
  if (!s) throw new Error(`no script lua/${name}-N.lua`);
  if (keys.length !== s.numberOfKeys) throw new Error(`${name} takes ${s.numberOfKeys} keys, got ${keys.length}`);
  try {
    return (await redis.callBuffer('EVALSHA', s.sha, s.numberOfKeys, ...keys, ...argv)) as Reply;
  } catch (err) {
    if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
    return (await redis.callBuffer('EVAL', s.lua, s.numberOfKeys, ...keys, ...argv)) as Reply;
  }
}

/** A reply element as a number or string (status words such as "reaped"). */
export function scalar(r: Reply | undefined): number | string | null {
  if (r === null || r === undefined) return null;
  if (typeof r === 'number') return r;
  if (Buffer.isBuffer(r)) return r.toString('latin1');
  throw new Error('expected a scalar reply element');
}
