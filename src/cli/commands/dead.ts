// `verk dead list|requeue|delete|clear`: the `dead` sorted set (jobs that ran out of retries).
import type { Command } from 'commander';
import { registerSortedSet } from './sorted-set.js';

export function registerDead(program: Command): void {
  registerSortedSet(program, 'dead', ['list', 'requeue', 'delete', 'clear']);
}
