// A running job's args as shown on Sidekiq Web's Busy page (the `<identity>:workers` hash): the
// args' exact text from the payload (big integers keep their digits), bounded so a huge payload
// never travels over IPC on every ping. Larger args become a two-string array: the start of
// their text and a marker saying how long it was (Sidekiq Web truncates each arg to 2000 chars).
import { rawMember } from './raw-json.js';

/** Longest args text passed on as is (characters). */
export const ARGS_PREVIEW_MAX = 4096;

/** JSON text of an array: the job's args, or a truncated stand-in. Never throws. */
export function argsPreview(raw: string, max = ARGS_PREVIEW_MAX): string {
  let text: string;
  try {
    text = argsText(raw);
  } catch {
    return '[]';
  }
  if (text.length <= max) return text;
  return JSON.stringify([`${text.slice(0, max)}…`, `(args truncated by verk: ${text.length} characters)`]);
}

/** The args' text under the codec's args rule: an array as is, verk's string-encoded array unwrapped, anything else []. */
function argsText(raw: string): string {
  const member = rawMember(raw, 'args')?.trim();
  if (member?.startsWith('[')) return member;
  if (member?.startsWith('"')) {
    const inner = (JSON.parse(member) as string).trim();
    if (inner.startsWith('[') && Array.isArray(JSON.parse(inner))) return inner;
  }
  return '[]';
}
