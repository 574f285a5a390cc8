// How a batch of finished jobs is acked: each job named by its bytes or, from
// SCRIPT_BOUNDS.ackByHashFromBytes on, by its length, a marker and its SHA-1 (so its payload does
// not travel back to Redis), at the position from the tail where the worker expects it, and the
// batch split into calls of at most SCRIPT_BOUNDS.ackMaxJobs jobs and ackMaxBytes payload bytes
// (so no call holds Redis long, whatever the concurrency). See lua/ack-6.lua.
import { createHash } from 'node:crypto';
import { SCRIPT_BOUNDS } from '../config/defaults.js';
import type { AckRef } from '../redis/scripts.js';

export interface AckItem<T> {
  entry: T;
  raw: Buffer;
  /** The payload's text when valid UTF-8 (sent instead of the Buffer when named by bytes). */
  text?: string;
  /** Position from the tail before the batch (1 = the tail), or 0 when unknown. */
  pos: number;
  /** The node holds few jobs: a small payload is removed by its bytes at once (spec "R"). */
  direct?: boolean;
}

export interface AckCall<T> {
  entries: T[];
  refs: AckRef[];
}

/** The caps planAcks and ackRef use (SCRIPT_BOUNDS; tests pass smaller ones). */
export interface Bounds {
  ackMaxJobs: number;
  ackMaxBytes: number;
  ackByHashFromBytes: number;
  markerBytes: number;
}

const JID = Buffer.from('"jid":"');

/** Where the marker of a payload starts: its jid's text, else its last bytes. */
export function markerOffset(raw: Buffer, markerBytes: number): number {
  const j = raw.indexOf(JID);
  if (j >= 0 && j + JID.length < raw.length) return j + JID.length;
  return Math.max(0, raw.length - markerBytes);
}

/** The ref of one job at position `hint` (0 = unknown: then always by bytes, which the script can search). */
export function ackRef(raw: Buffer, text: string | undefined, hint: number, b: Bounds = SCRIPT_BOUNDS, direct = false): AckRef {
  if (direct && raw.length < b.ackByHashFromBytes) return { remove: text ?? raw };
  if (hint > 0 && raw.length >= b.ackByHashFromBytes) {
    const offset = markerOffset(raw, b.markerBytes);
    const marker = raw.subarray(offset, offset + b.markerBytes);
    return { hint, length: raw.length, offset, marker, sha1: createHash('sha1').update(raw).digest('hex') };
  }
  return { bytes: text ?? raw, hint };
}

/**
 * The calls for one batch, tail-most jobs first. Positions are those before the batch; a call
 * runs after the calls before it removed their jobs, all nearer the tail, so its hints are the
 * positions less the jobs already planned. Jobs of unknown position go last, by bytes.
 */
export function planAcks<T>(items: AckItem<T>[], b: Bounds = SCRIPT_BOUNDS): AckCall<T>[] {
  const known = items.filter((i) => i.pos > 0).sort((x, y) => x.pos - y.pos);
  const ordered = [...known, ...items.filter((i) => !(i.pos > 0))];
  const calls: AckCall<T>[] = [];
  let cur: AckCall<T> | undefined;
  let bytes = 0;
  let planned = 0;
  for (const it of ordered) {
    if (!cur || cur.entries.length >= b.ackMaxJobs || (cur.entries.length > 0 && bytes + it.raw.length > b.ackMaxBytes)) {
      if (cur) planned += cur.entries.length;
      cur = { entries: [], refs: [] };
      calls.push(cur);
      bytes = 0;
    }
    cur.entries.push(it.entry);
    cur.refs.push(ackRef(it.raw, it.text, it.pos > 0 ? it.pos - planned : 0, b, it.direct === true));
    bytes += it.raw.length;
  }
  return calls;
}
