// `verk scale-hint`: how many worker processes a queue's current load needs to keep its latency
// under a target, from two samples of the fleet taken a window apart (Redis's clock): the
// queue's execution counter (stat:processed:<q>), its size and latency, and on every live node
// serving it its slots (the `queues` of its info hash, "q:concurrency,…") and its running jobs
// of the queue (`running`). Measured: completions/s X; when jobs waited all along every slot was
// busy and one worker process finishes X ÷ nodes jobs/s, else X ÷ busy slots × its slots. Needed:
// arrivals λ = X + Δsize/Δt, plus draining the backlog above λ × target within the target.
import type { AdminContext } from './admin-context.js';
import { latencyOf } from './queues.js';

export interface LoadSample {
  queue: string;
  /** Redis's clock, epoch seconds. */
  at: number;
  /** stat:processed:<q>: executions so far (successes and failures). */
  processed: number;
  size: number;
  latency: number;
  /** Live verk nodes (worker processes) that serve the queue. */
  nodes: number;
  /** Their `verk work` supervisors. */
  supervisors: number;
  /** Job slots for the queue over those nodes. */
  slots: number;
  /** Jobs of the queue running on them. */
  busy: number;
}

export async function sampleLoad(ctx: AdminContext, queue: string): Promise<LoadSample> {
  const { redis, keys } = ctx;
  const ids = await redis.smembers(keys.nodes);
  const pipe = redis.pipeline().time().get(keys.processed(queue)).llen(keys.queue(queue)).lindex(keys.queue(queue), -1);
  for (const id of ids) pipe.exists(keys.node(id)).hmget(keys.nodeInfo(id), 'queues', 'running', 'identity');
  const res = (await pipe.exec()) ?? [];
  const err = res.find(([e]) => e)?.[0];
  if (err) throw err;
  const [s, us] = res[0][1] as [string, string];
  const at = Number(s) + Number(us) / 1e6;
  const sample: LoadSample = {
    queue,
    at,
    processed: Number(res[1][1] ?? 0) || 0,
    size: res[2][1] as number,
    latency: latencyOf(res[3][1] as string | null, at),
    nodes: 0,
    supervisors: 0,
    slots: 0,
    busy: 0,
  };
  const supervisors = new Set<string>();
  ids.forEach((id, i) => {
    if (res[4 + 2 * i][1] !== 1) return;
    const [queues, running, identity] = res[5 + 2 * i][1] as (string | null)[];
    const slots = slotsOf(queues, queue);
    if (slots === 0) return;
    sample.nodes++;
    sample.slots += slots;
    sample.busy += runningOf(running, queue);
    supervisors.add(identity ?? id);
  });
  sample.supervisors = supervisors.size;
  return sample;
}

/** The concurrency for `queue` in an info hash's "q:concurrency,…" (0 when it does not serve it). */
export function slotsOf(queues: string | null, queue: string): number {
  for (const part of (queues ?? '').split(',')) {
    const i = part.lastIndexOf(':');
    if (i > 0 && part.slice(0, i) === queue) return Number(part.slice(i + 1)) || 0;
  }
  return 0;
}

function runningOf(text: string | null, queue: string): number {
  try {
    const v = JSON.parse(text ?? '[]') as { queue?: unknown }[];
    return Array.isArray(v) ? v.filter((j) => j && j.queue === queue).length : 0;
  } catch {
    return 0;
  }
}

export interface ScaleHint {
  queue: string;
  window_s: number;
  target_latency_s: number;
  /** Completions per second over the window. */
  throughput: number;
  /** Arrivals per second: throughput + growth of the queue. */
  arrivals: number;
  size: number;
  latency: number;
  nodes: number;
  supervisors: number;
  /** Jobs per second one worker process finishes for this queue (null: nothing ran, unknown). */
  per_process: number | null;
  /** Worker processes (verk nodes) needed; null when it cannot be measured. */
  processes_needed: number | null;
  /** `verk work` instances needed at the fleet's current worker processes per instance. */
  supervisors_needed: number | null;
  /** One sentence saying what the figures mean. */
  advice: string;
}

export function scaleHint(a: LoadSample, b: LoadSample, targetLatencyS: number): ScaleHint {
  const dt = Math.max(1e-3, b.at - a.at);
  const throughput = Math.max(0, b.processed - a.processed) / dt;
  const arrivals = Math.max(0, throughput + (b.size - a.size) / dt);
  const busy = (a.busy + b.busy) / 2;
  const slotsPerNode = b.nodes ? b.slots / b.nodes : 0;
  // Jobs waited through the whole window: every slot was busy, so one process did X ÷ nodes.
  // Otherwise idle slots count too (X ÷ busy × slots); the running jobs a node reports are up to
  // a beat old, so that estimate is never taken below X ÷ nodes.
  const saturated = a.size > 0 && b.size > 0;
  const measured = throughput > 0 && b.nodes > 0 ? throughput / b.nodes : null;
  const perProcess = measured === null ? null : saturated || busy <= 0 ? measured : Math.max(measured, (throughput / busy) * slotsPerNode);
  const base = {
    queue: b.queue,
    window_s: round(dt),
    target_latency_s: targetLatencyS,
    throughput: round(throughput),
    arrivals: round(arrivals),
    size: b.size,
    latency: round(b.latency),
    nodes: b.nodes,
    supervisors: b.supervisors,
  };
  const perSupervisor = b.supervisors ? b.nodes / b.supervisors : 1;
  if (perProcess === null) {
    const advice =
      b.nodes === 0
        ? b.size > 0
          ? `no live worker process serves ${b.queue} and ${b.size} jobs wait: start at least one`
          : `no live worker process serves ${b.queue}, and it is empty`
        : b.size > 0
          ? `nothing of ${b.queue} finished in ${round(dt)} s while ${b.size} jobs wait: jobs longer than the window, or workers stuck (verk stuck); sample a longer --window`
          : `${b.queue} is idle: no throughput to measure`;
    return { ...base, per_process: null, processes_needed: null, supervisors_needed: null, advice };
  }
  const backlog = Math.max(0, b.size - arrivals * targetLatencyS);
  const capacity = arrivals + backlog / targetLatencyS;
  const needed = Math.max(1, Math.ceil(capacity / perProcess - 1e-9));
  const supervisorsNeeded = Math.ceil(needed / perSupervisor - 1e-9);
  const advice =
    needed > b.nodes
      ? `add ${needed - b.nodes} worker ${needed - b.nodes === 1 ? 'process' : 'processes'} (${supervisorsNeeded} \`verk work\` at ${round(perSupervisor)} each) to keep ${b.queue}'s latency under ${targetLatencyS} s`
      : needed < b.nodes
        ? `${needed} of ${b.nodes} worker processes would keep ${b.queue}'s latency under ${targetLatencyS} s`
        : `${b.nodes} worker processes fit the load`;
  return { ...base, per_process: round(perProcess), processes_needed: needed, supervisors_needed: supervisorsNeeded, advice };
}

const round = (n: number) => Math.round(n * 100) / 100;
