// Removes secrets from anything that may reach a log line or an error message.

/** redis://user:secret@host:6379/0 → redis://user:***@host:6379/0 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^:@/]*):([^@/]*)@/i, (_m, scheme, user) => `${scheme}${user}:***@`);
}

/** Redacts every URL-with-password found inside free text (error messages, stack lines). */
export function redactText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):([^@/\s]*)@/gi, (_m, scheme, user) => `${scheme}${user}:***@`);
}
