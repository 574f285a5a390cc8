// `verk processes`: every live member of Sidekiq's `processes` set (each `verk work` supervisor,
// and Sidekiq processes sharing the Redis) with its state, busy/concurrency and the verk nodes
// (worker processes) it owns: nodes whose `verk:node:<id>:info` names its identity.
import type { AdminContext } from './admin-context.js';
import { listNodes, type NodeRow } from './nodes.js';
import { listProcesses, type ProcessInfo } from './processes.js';

export interface ProcessNode {
  id: string;
  alive: boolean;
  pid: number | null;
  state: string | null;
  busy: number | null;
  in_progress: number;
  queues: string[];
}

export interface ProcessRow {
  identity: string;
  hostname: string | null;
  pid: number | null;
  /** Epoch seconds (float, as Sidekiq stores it). */
  started_at: number | null;
  beat: number | null;
  /** Seconds since the last beat, on Redis's clock. */
  last_beat_s: number | null;
  /** `running`; `quiet` (fetching stopped, e.g. after `verk quiet`); `stopping` (quiet and a node is stopping). */
  state: 'running' | 'quiet' | 'stopping';
  quiet: boolean;
  busy: number;
  concurrency: number | null;
  queues: string[];
  labels: string[];
  /** Labelled `verk` (a verk supervisor) rather than a Sidekiq process. */
  verk: boolean;
  nodes: ProcessNode[];
}

export interface ProcessesReport {
  redis_time: string;
  processes: ProcessRow[];
}

export async function processesReport(ctx: AdminContext): Promise<ProcessesReport> {
  const [procs, nodes] = await Promise.all([listProcesses(ctx), listNodes(ctx.redis, ctx.keys)]);
  const now = Date.parse(nodes.redis_time) / 1000;
  return {
    redis_time: nodes.redis_time,
    processes: procs.map((p) =>
      row(
        p,
        nodes.nodes.filter((n) => n.identity === p.identity),
        now,
      ),
    ),
  };
}

function row(p: ProcessInfo, owned: NodeRow[], nowS: number): ProcessRow {
  const nodes = owned.map((n): ProcessNode => ({ id: n.id, alive: n.alive, pid: n.pid, state: n.state, busy: n.busy, in_progress: n.in_progress, queues: n.queues }));
  const stopping = p.quiet && nodes.some((n) => n.state === 'stopping');
  return {
    identity: p.identity,
    hostname: p.hostname,
    pid: p.pid,
    started_at: p.started_at,
    beat: p.beat,
    last_beat_s: p.beat === null ? null : Math.max(0, Math.round((nowS - p.beat) * 10) / 10),
    state: stopping ? 'stopping' : p.quiet ? 'quiet' : 'running',
    quiet: p.quiet,
    busy: p.busy,
    concurrency: p.concurrency,
    queues: p.queues,
    labels: p.labels,
    verk: p.labels.includes('verk'),
    nodes,
  };
}
