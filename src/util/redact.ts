// Removes secrets from anything that may reach a log line or an error message: the password of a
// URL's user info, and password parameters of its query (a Sentinel URL's ?sentinelPassword=).

// The password runs to the LAST "@" before the host's "/" (an unescaped "@" in it stays hidden).
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^:@/\s]*):([^/\s]*)@/gi;
/** `sentinelPassword=…`, `password=…` (any case) in a query, up to the next & or white space. */
const QUERY_SECRET = /([?&](?:sentinel)?pass(?:word)?=)[^&\s#]*/gi;

/** redis://user:secret@host:6379/0 → redis://user:***@host:6379/0 */
export function redactUrl(url: string): string {
  return url.replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/)([^:@/]*):([^/]*)@/i, (_m, scheme, user) => `${scheme}${user}:***@`).replace(QUERY_SECRET, (_m, name) => `${name}***`);
}

/** Redacts every URL-with-password found inside free text (error messages, stack lines). */
export function redactText(text: string): string {
  return text.replace(USERINFO, (_m, scheme, user) => `${scheme}${user}:***@`).replace(QUERY_SECRET, (_m, name) => `${name}***`);
}
