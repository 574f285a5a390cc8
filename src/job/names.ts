// Name rules for jobs: the characters a queue name may have (what the config accepts), and the
// registry form of a class name (Elixir verk's "Elixir." prefix dropped, Ruby's "::" as ".").

export const QUEUE_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * A job class name as `verk enqueue` and the cron config accept it: segments of letters, digits,
 * `_` and `-`, joined by `.` or `::`. No spaces, slashes, empty segments or `..`.
 */
export const CLASS_NAME = /^(?:Elixir\.)?[A-Za-z0-9_][A-Za-z0-9_-]*(?:(?:\.|::)[A-Za-z0-9_][A-Za-z0-9_-]*)*$/;

export function normalizeClass(name: string): string {
  return name.replace(/^Elixir\./, '').replace(/::/g, '.');
}
