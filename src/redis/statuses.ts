// Every status a Lua script returns, mapped from its raw value (a number or a short string) to
// the name the rest of the code uses. Raw values never leave src/redis/; an unknown value is a
// contract break between a script and its wrapper and throws, never defaults.
import { EXIT, VerkError } from '../util/errors.js';

export const FETCH_STATUS = { 1: 'ok', 0: 'paused', [-1]: 'fenced' } as const;
/** ack-6: what the refill did (2 = no refill asked). */
export const REFILL_STATUS = { 1: 'ok', 0: 'paused', [-1]: 'fenced', 2: 'none' } as const;
export const ALIVE_STATUS = { 1: true, 0: false } as const;
export const FAIL_STATUS = { 1: 'settled', 0: 'not_held', [-1]: 'fenced' } as const;
export const REQUEUE_STATUS = { 1: 'moved', 0: 'gone' } as const;
export const HEARTBEAT_STATUS = { 1: true, 0: false } as const;
export const REAP_STATUS = { alive: 'alive', gone: 'gone', reaped: 'reaped', wrongtype: 'wrongtype' } as const;
export const ORPHAN_STATUS = { moved: 'moved', owned: 'owned', alive: 'alive', wrongtype: 'wrongtype' } as const;
/**
 * The status a script returns instead of writing when a key it would write has the wrong
 * type (a list where a sorted set belongs, ...): followed by the key's name. Scripts whose
 * wrappers have no such status (fail, handback, promote, requeue) make the wrapper throw
 * WrongTypeError: nothing was written, so the call may be repeated once the key is repaired.
 */
export const WRONGTYPE = 'wrongtype';

export class WrongTypeError extends VerkError {
  constructor(
    readonly script: string,
    readonly key: string,
  ) {
    super(`${script}: key ${key} holds the wrong type of value; nothing was changed (repair or delete the key)`, EXIT.runtime, 'WrongTypeError');
  }
}

export class ScriptStatusError extends VerkError {
  constructor(script: string, raw: unknown) {
    super(`${script}: unknown status ${JSON.stringify(String(raw))} from the script (wrapper and script disagree)`, EXIT.runtime, 'ScriptStatusError');
  }
}

/** The name for raw status `raw` in `table`; throws when the script returned something else. */
export function statusOf<T extends Record<string | number, unknown>>(script: string, table: T, raw: unknown): T[keyof T] {
  const key = Buffer.isBuffer(raw) ? raw.toString() : raw;
  if ((typeof key === 'number' || typeof key === 'string') && Object.hasOwn(table, key)) {
    return table[key as keyof T];
  }
  throw new ScriptStatusError(script, key);
}

/** Throws WrongTypeError when a reply is `{ 'wrongtype', key }`. */
export function throwIfWrongType(script: string, reply: unknown): void {
  if (Array.isArray(reply) && reply.length === 2 && String(reply[0]) === WRONGTYPE) throw new WrongTypeError(script, String(reply[1]));
}
