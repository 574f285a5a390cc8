// Name rules shared by admin operations: class names compare without Elixir verk's "Elixir."
// prefix and with Ruby's "::" as "." (as the handler registry looks them up); queue names use
// the characters the config accepts.

export function normalizeClassName(name: string): string {
  return name.replace(/^Elixir\./, '').replace(/::/g, '.');
}

export const QUEUE_NAME = /^[A-Za-z0-9_.\-]+$/;
