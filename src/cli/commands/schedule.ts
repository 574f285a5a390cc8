// `verk schedule list|requeue|kill|delete`: the `schedule` sorted set (jobs scheduled for later);
// requeue runs them now (moved to their queues by the same atomic, idempotent script as retry/dead).
import type { Command } from 'commander';
import { registerSortedSet } from './sorted-set.js';

export function registerSchedule(program: Command): void {
  registerSortedSet(program, 'schedule', ['list', 'requeue', 'kill', 'delete']);
}
