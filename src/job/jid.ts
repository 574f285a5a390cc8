// Job ids: 24 lowercase hex characters, as Sidekiq writes them.
import { randomBytes, createHash } from 'node:crypto';

export function newJid(): string {
  return randomBytes(12).toString('hex');
}

/** A stable stand-in id for a payload that has none (or cannot be parsed). */
export function payloadId(raw: string): string {
  return createHash('sha1').update(raw).digest('hex').slice(0, 24);
}
