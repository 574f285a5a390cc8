// A spinner for long operations, on stderr and only when stderr is a TTY (never in pipes, CI
// logs or --json runs); colour follows NO_COLOR like the rest of the output.
import ora, { type Ora } from 'ora';
import { colorWanted } from '../config/terminal.js';

export interface Spin {
  update(text: string): void;
  stop(): void;
}

export function startSpinner(text: string, enabled = true): Spin {
  if (!enabled || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const s: Ora = ora({ text, stream: process.stderr, color: colorWanted(process.stderr) ? 'cyan' : undefined }).start();
  return { update: (t) => (s.text = t), stop: () => s.stop() };
}
