// `verk web` and `verk work --web-port`: an HTTP server around createWebHandler, on webHost
// (127.0.0.1 unless told otherwise). A non-loopback address without credentials is refused:
// set webAuth, or webAuth `none` when something in front of it authenticates.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../util/errors.js';
import { isClusterUrl } from '../config/shard-worlds.js';
import type { Logger } from '../util/logger.js';
import { createWebHandler, type WebHandler } from './handler.js';

export interface WebServer {
  port: number;
  host: string;
  handler: WebHandler;
  close(): Promise<void>;
}

export type WebConfig = Pick<
  Config,
  'redisUrl' | 'prefix' | 'webHost' | 'webAuth' | 'webReadAuth' | 'webPollInterval' | 'webAuditLength' | 'deadTimeout' | 'deadMaxJobs' | 'cron'
>;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startWebServer(config: WebConfig, port: number, log?: Logger): Promise<WebServer> {
  if (isClusterUrl(config.redisUrl ?? '')) {
    throw new ConfigError(
      'the web dashboard reads one Redis and is not available in the Redis Cluster layout (a redis+cluster:// URL): use the operator commands, which run per shard (docs/redis-cluster.md)',
    );
  }
  if (!isLoopback(config.webHost) && config.webAuth === '') {
    throw new ConfigError(
      `the web dashboard would listen on ${config.webHost} without credentials: set --auth token:<secret> (or basic:<user>:<password>), or --auth none when a proxy in front of it authenticates`,
    );
  }
  const handler = createWebHandler({
    redisUrl: config.redisUrl,
    prefix: config.prefix,
    auth: config.webAuth,
    readAuth: config.webReadAuth,
    pollIntervalMs: config.webPollInterval,
    auditLength: config.webAuditLength,
    deadTimeout: config.deadTimeout,
    deadMaxJobs: config.deadMaxJobs,
    cron: config.cron,
    log,
  });
  const server = http.createServer(handler);
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, config.webHost, () => resolve());
    });
  } catch (err) {
    await handler.close();
    throw new Error(`the web dashboard could not listen on ${config.webHost}:${port}: ${(err as Error).message}`);
  }
  const addr = server.address() as AddressInfo;
  log?.info('web dashboard listening', {
    url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}/`,
    auth: handler.auth.open ? 'none' : 'on',
  });
  return {
    port: addr.port,
    host: addr.address,
    handler,
    async close() {
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
