// `verk retry list|requeue|kill|delete|clear`: the `retry` sorted set (jobs waiting to be retried).
import type { Command } from 'commander';
import { registerSortedSet } from './sorted-set.js';

export function registerRetry(program: Command): void {
  registerSortedSet(program, 'retry', ['list', 'requeue', 'kill', 'delete', 'clear']);
}
