// A running job's args as shown on Sidekiq Web's Busy page (the `<identity>:workers` hash): the
// args' exact text from the payload (big integers keep their digits), bounded so a huge payload
// never travels over IPC on every ping. Larger args become a two-string array: a marker saying
// how long they were (first, so Sidekiq Web's narrow Arguments cell shows it), then the start of
// their text (Sidekiq Web itself truncates each arg it displays to 2000 characters).
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
  return JSON.stringify([`(args truncated by verk: ${text.length} characters; the first ${max} follow)`, `${text.slice(0, max)}…`]);
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
