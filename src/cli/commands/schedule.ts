// `verk schedule list|delete`: the `schedule` sorted set (jobs scheduled for later).
import type { Command } from 'commander';
import { registerSortedSet } from './sorted-set.js';

export function registerSchedule(program: Command): void {
  registerSortedSet(program, 'schedule', ['list', 'delete']);
}
