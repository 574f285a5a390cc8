// Name rules for jobs: the characters a queue name may have (what the config accepts), and the
// registry form of a class name (Elixir verk's "Elixir." prefix dropped, Ruby's "::" as ".").

export const QUEUE_NAME = /^[A-Za-z0-9_.-]+$/;

export function normalizeClass(name: string): string {
  return name.replace(/^Elixir\./, '').replace(/::/g, '.');
}
