// One identity rule for a payload (its bytes), the same as lua/include/identity.lua: the jid
// when it is a non-empty string of printable ASCII (0x21-0x7E) of at most 255 bytes, or an
// integer number with |n| <= 2^53-1 (decimal digits, no exponent, -0 -> 0); otherwise the
// 40-hex sha1 of the payload bytes (of a JSON object: of identityBytes, which leaves out the
// "verk_recovered" digits the reap script writes, so a job keeps its identity across
// recoveries). A payload counts as a JSON object only as both sides read
// it: strict JSON (RFC 8259: valid UTF-8) whose first non-blank byte is '{', nested at most
// 1000 deep (Redis cjson's limit) and with no lone UTF-16 surrogate escape (cjson refuses those).
// Used for recovery counters (verk:recovered:<id>), the recovery history, poison-pill evidence
// (verk:node:<id>:started, the running snapshot) and the `requeue-dead --dry-run` mirror.
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';

/** Deepest nesting Redis's cjson decodes (an object inside 999 arrays is 1000). */
export const MAX_DEPTH = 1000;
export const MAX_JID_BYTES = 255;
const PRINTABLE = /^[\x21-\x7e]+$/;
const OBJECT_START = /^[ \t\r\n]*\{/;

export interface DecodedPayload {
  /** The decoded JSON object, or undefined when the payload is not one (array, scalar, not JSON...). */
  job: Record<string, unknown> | undefined;
  identity: string;
}

/** The identity a jid value gives, or undefined when the value cannot be one. */
export function jidIdentity(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length <= MAX_JID_BYTES && PRINTABLE.test(v) ? v : undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v === 0 ? 0 : v);
  return undefined;
}

export function decodePayload(payload: Buffer | string): DecodedPayload {
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const job = jsonObject(bytes);
  return { job, identity: (job && jidIdentity(job.jid)) ?? sha1(job ? identityBytes(bytes) : bytes) };
}

const RECOVERED_TAIL = /"verk_recovered":[0-9]+\}[ \t\r\n]*$/;
const RECOVERED_DIGITS = /"verk_recovered":[0-9]+/g;

/**
 * The bytes an object's sha1 identity is taken over (see lua/include/identity.lua): without a
 * last member "verk_recovered": <digits>, and with the digits of every other one removed.
 */
export function identityBytes(bytes: Buffer): Buffer {
  let text = bytes.toString('latin1');
  const m = RECOVERED_TAIL.exec(text);
  if (m) {
    const before = text.slice(0, m.index);
    const after = text.slice(text.indexOf('}', m.index));
    if (before.endsWith(',')) text = before.slice(0, -1) + after;
    else if (/^[ \t\r\n]*\{[ \t\r\n]*$/.test(before)) text = before + after;
  }
  return Buffer.from(text.replace(RECOVERED_DIGITS, '"verk_recovered":'), 'latin1');
}

export function payloadIdentity(payload: Buffer | string): string {
  return decodePayload(payload).identity;
}

function jsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  if (!isUtf8(bytes)) return undefined;
  const text = bytes.toString('utf8');
  if (!OBJECT_START.test(text)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  return cjsonReads(text) ? (v as Record<string, unknown>) : undefined;
}

const TOKEN = /["{}[\]]|\\u[dD][89abAB][0-9a-fA-F]{2}(?:\\u[dD][c-fC-F][0-9a-fA-F]{2})?|\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\[^]/g;

/**
 * Whether Redis's cjson decodes this text (valid JSON) too: nesting within MAX_DEPTH and no
 * lone surrogate escape. Read from the text, not the value: a duplicate key hides what it replaced.
 */
function cjsonReads(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (const m of text.matchAll(TOKEN)) {
    const t = m[0];
    if (t === '"') inString = !inString;
    else if (t.length > 1) {
      // An escape (only inside strings in valid JSON): a surrogate one must be a high+low pair.
      if (/^\\u[dD][89abAB]/.test(t) ? t.length !== 12 : /^\\u[dD]/.test(t)) return false;
    } else if (!inString) {
      if (t === '{' || t === '[') {
        if (++depth > MAX_DEPTH) return false;
      } else depth--;
    }
  }
  return true;
}

export const sha1 = (b: Buffer | string) => createHash('sha1').update(b).digest('hex');
