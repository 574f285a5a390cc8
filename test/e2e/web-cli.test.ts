// `verk web` through the built binary: it serves the dashboard on 127.0.0.1 and stops on SIGTERM
// with 0; a non-loopback address without credentials and a bad credential spec exit 78 before
// anything listens (the message does not repeat the spec); a port in use exits 1.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { VERK_BIN, verk } from '../helpers/cli.js';
import { usePrivateRedis } from '../helpers/e2e.js';
import { freePort, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { httpGet } from '../helpers/e2e-kit.js';

let server: RedisServer;
usePrivateRedis((s) => (server = s));

describe('verk web', () => {
  it('serves the dashboard on loopback and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const web = execa('node', [VERK_BIN, 'web', '--port', String(port), '--redis-url', server.url, '--log-level', 'info'], {
      reject: false,
      env: { NO_COLOR: '1', VERK_WEB_AUTH: 'token:e2e-secret-token-0123456789' },
      all: true,
    });
    try {
      const page = await waitFor(
        async () => {
          const r = await httpGet(port, '/queues');
          return r.status ? r : undefined;
        },
        { what: 'verk web to answer', timeoutMs: 20_000 },
      );
      expect(page.status).toBe(401);
      const ok = await fetch(`http://127.0.0.1:${port}/queues`, { headers: { Authorization: 'Bearer e2e-secret-token-0123456789' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('<h1>Queues</h1>');
    } finally {
      web.kill('SIGTERM');
    }
    const res = await web;
    expect(res.exitCode).toBe(0);
    expect(res.all).toContain('"msg":"web dashboard listening"');
    expect(res.all).toContain(`"url":"http://127.0.0.1:${port}/"`);
    expect(res.all).not.toContain('e2e-secret');
  });

  it('refuses a non-loopback address without credentials, and a bad spec without echoing it (78)', async () => {
    const open = await verk(['web', '--host', '0.0.0.0', '--port', String(await freePort()), '--redis-url', server.url]);
    expect(open.exitCode).toBe(78);
    expect(open.stderr).toMatch(/would listen on 0\.0\.0\.0 without credentials: set --auth token:<secret>/);
    const bad = await verk(['web', '--auth', 'tokn:hunter2-hunter2-hunter2', '--redis-url', server.url]);
    expect(bad.exitCode).toBe(78);
    expect(bad.stderr).toMatch(/`webAuth` must be token:<secret>, basic:<user>:<password> or none/);
    expect(bad.stderr).not.toContain('hunter2');
  });

  it('exits 1 naming the port when it is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const res = await verk(['web', '--port', String(port), '--redis-url', server.url]);
      expect(res.exitCode).toBe(1);
      expect(res.stderr).toMatch(new RegExp(`the web dashboard could not listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      blocker.close();
    }
  });
});
