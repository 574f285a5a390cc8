// The steps of the chaos tests (test/fault/*-chaos.test.ts) on `verk work` process groups started
// with startWorker: a freeze past the node TTL (the group is reaped meanwhile, then thaws as a
// zombie that must fence itself) and a kill -9 with a replacement started in its place.
import type { ResultPromise } from 'execa';
import { signalGroup } from './cli.js';
import { TEST_INTERVALS } from './e2e.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGSTOP for the node TTL + 1.5 s, then SIGCONT; returns how long it was frozen (ms). */
export async function freezePastTtl(pid: number): Promise<number> {
  const ms = TEST_INTERVALS.nodeTtlMs + 1500;
  signalGroup(pid, 'SIGSTOP');
  await sleep(ms);
  signalGroup(pid, 'SIGCONT');
  return ms;
}

/** SIGKILL to nodes[i]'s group, then a new one from `start` in its place (also kept in `all`, to be awaited at the end). */
export async function killAndReplace(nodes: ResultPromise[], i: number, start: () => ResultPromise, all: ResultPromise[]): Promise<void> {
  signalGroup(nodes[i].pid!, 'SIGKILL');
  await nodes[i].catch(() => undefined);
  nodes[i] = start();
  all.push(nodes[i]);
}
