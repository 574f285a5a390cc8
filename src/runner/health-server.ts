// The health and metrics HTTP server of `verk work` (only when healthPort > 0):
//   /livez   200 while the supervisor's loop runs, its nodes' leases are renewed and it has not
//            run short of worker processes for longer than degradedTimeout
//   /readyz  200 while registered, Redis reachable, not quiet and not shutting down
//   /metrics Prometheus text (see metrics.ts)
// Probe bodies are JSON with the reasons, so `curl` tells an operator what is wrong.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../util/logger.js';
import { withTimeout } from '../util/timeout.js';
import { fenceMargin } from '../core/duties/heartbeat.js';
import { createMetrics } from './metrics.js';
import type { SupervisorView } from './supervisor.js';
import { viewsOf } from './supervisor-view.js';

/** A Redis PING slower than this makes /readyz fail. */
const READY_PING_TIMEOUT_MS = 500;

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export interface ProbeResult {
  ok: boolean;
  state: string;
  reasons: string[];
  [k: string]: unknown;
}

/**
 * Live = the supervisor loop ticked recently, every node's lease was renewed before the point
 * where it is fenced (nodeTtl - fenceMargin), and the supervisor has not had fewer worker
 * processes than `processes` for longer than degradedTimeout (so an orchestrator restarts a
 * supervisor that cannot get back to full service).
 */
export function liveness(sup: SupervisorView): ProbeResult {
  const c = sup.config;
  const reasons: string[] = [];
  const heartbeatAge = Math.round(sup.heartbeatAge());
  const loopAge = Math.round(sup.loopAge());
  const shortfall = Math.round(sup.shortfallMs());
  const fenceAfter = c.nodeTtl - fenceMargin(c);
  // The ping loop runs every min(heartbeatInterval, 1s); allow a few missed rounds.
  const loopLimit = Math.max(c.nodeTtl / 2, 3 * Math.min(c.heartbeatInterval, 1000));
  if (sup.state === 'running' || sup.state === 'quiet') {
    if (heartbeatAge >= fenceAfter) reasons.push(`heartbeat not renewed for ${heartbeatAge}ms (limit ${fenceAfter}ms)`);
    if (loopAge > loopLimit) reasons.push(`supervisor loop silent for ${loopAge}ms (limit ${loopLimit}ms)`);
    if (shortfall > c.degradedTimeout) {
      reasons.push(`${sup.workers().length} of ${c.processes} worker processes for ${shortfall}ms (limit ${c.degradedTimeout}ms)`);
    }
  }
  return {
    ok: reasons.length === 0,
    state: sup.state,
    reasons,
    heartbeat_age_ms: heartbeatAge,
    loop_age_ms: loopAge,
    workers: sup.workers().length,
    shortfall_ms: shortfall,
  };
}

/** Ready = registered worker processes, Redis answers, not quiet, not shutting down. */
export async function readiness(sup: SupervisorView): Promise<ProbeResult> {
  const reasons: string[] = [];
  if (sup.state === 'starting') reasons.push('starting');
  if (sup.state === 'quiet') reasons.push('quiet: not fetching new jobs');
  if (sup.state === 'stopping' || sup.state === 'stopped') reasons.push('shutting down');
  const registered = sup.workers().filter((ch) => ch.state === 'running').length;
  if (sup.state === 'running' && registered === 0) reasons.push('no registered worker process');
  const redisOk = await pingRedis(sup);
  if (!redisOk) reasons.push('Redis unreachable');
  return {
    ok: reasons.length === 0,
    state: sup.state,
    reasons,
    workers: registered,
    redis: redisOk ? 'up' : 'down',
    redis_maxmemory_policy: sup.evictionPolicy,
    warnings: sup.evictionWarning ? [sup.evictionWarning] : [],
  };
}

/** Every connection answers (in the Redis Cluster layout, one per shard world). */
async function pingRedis(sup: SupervisorView): Promise<boolean> {
  const ok = await Promise.all(viewsOf(sup).map((s) => pingOne(s.redis)));
  return ok.every(Boolean);
}

async function pingOne(redis: SupervisorView['redis']): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  return withTimeout(redis.ping(), READY_PING_TIMEOUT_MS).then(
    () => true,
    () => false,
  );
}

export async function startHealthServer(sup: SupervisorView, port: number, log: Logger): Promise<HealthServer> {
  const metrics = createMetrics(sup);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const probe = (r: ProbeResult) => reply(r.ok ? 200 : 503, JSON.stringify({ status: r.ok ? 'ok' : 'fail', ...r }) + '\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, JSON.stringify({ error: 'use GET' }) + '\n');
    if (path === '/livez' || path === '/healthz') return probe(liveness(sup));
    if (path === '/readyz') {
      void readiness(sup).then(probe, (err) => reply(503, JSON.stringify({ status: 'fail', reasons: [(err as Error).message] }) + '\n'));
      return;
    }
    if (path === '/metrics') {
      void metrics.render().then(
        (text) => reply(200, text, metrics.contentType),
        (err) => reply(500, `# metrics failed: ${(err as Error).message}\n`, 'text/plain'),
      );
      return;
    }
    reply(404, JSON.stringify({ error: 'not found', endpoints: ['/livez', '/readyz', '/metrics'] }) + '\n');
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  server.on('error', (err) => log.error('health server error', { error: err.message }));
  server.unref();
  log.info('health server listening', { port: actual, endpoints: '/livez /readyz /metrics' });
  return {
    port: actual,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
