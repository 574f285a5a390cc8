// Job ids: 24 lowercase hex characters, as Sidekiq writes them. (A payload without a usable jid
// is named by payloadIdentity in identity.ts.)
import { randomBytes } from 'node:crypto';

export function newJid(): string {
  return randomBytes(12).toString('hex');
}
