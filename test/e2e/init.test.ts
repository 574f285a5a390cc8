// `verk init` with the built CLI: the generated project runs under `verk work` against a
// private Redis, the YAML files parse and say what the issue asks (Deployment, downward-API
// node id, grace period = shutdown timeout + 5 s, probes, requests), and --force rules hold.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startWorker, signalGroup, verk } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { fastArgs, jsonLines } from '../helpers/e2e-kit.js';

const FILES = ['verk.config.ts', 'jobs/Example.ts', 'Dockerfile', '.dockerignore', 'docker-compose.yml', 'k8s/deployment.yaml', 'package.json'];

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'verk-init-'));
const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), 'utf8');

describe('verk init', () => {
  it('writes the project into an empty directory and the generated config and handler run under verk work', async () => {
    const dir = tempDir();
    const res = await verk(['init'], { cwd: dir });
    expect(res.exitCode).toBe(0);
    for (const f of FILES) {
      expect(fs.existsSync(path.join(dir, f)), f).toBe(true);
      expect(res.stdout).toContain(f);
    }
    expect(res.stdout).toMatch(/Next:/);
    expect(res.stdout).toMatch(/npx verk work/);
    expect(read(dir, 'verk.config.ts')).not.toMatch(/\{\{/);

    const worker = startWorker(fastArgs(redis.url, ['-p', '1']), { cwd: dir });
    let output = '';
    worker.all?.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const enq = await verk(['enqueue', 'Example', '"from the test"', '--redis-url', redis.url], { cwd: dir });
      expect(enq.exitCode).toBe(0);
      await waitFor(async () => (await redis.client.get('stat:processed:default')) === '1', { timeoutMs: 20_000, what: 'the Example job to run' });
      expect(await redis.client.get('stat:failed:default')).toBeNull();
      const lines = jsonLines(output);
      const loaded = lines.find((l) => l.msg === 'configuration loaded');
      expect(String(loaded?.file)).toBe(path.join(fs.realpathSync(dir), 'verk.config.ts'));
      expect(lines.some((l) => l.msg === 'hello from Example' && l.name === 'from the test' && l.jid === enq.stdout.trim())).toBe(true);
    } finally {
      signalGroup(worker.pid!, 'SIGTERM');
      expect((await worker).exitCode).toBe(0);
    }
  });

  it('writes a Deployment with the downward-API node id, a grace period of shutdown timeout + 5 s, probes and requests', async () => {
    const dir = tempDir();
    expect((await verk(['init', dir])).exitCode).toBe(0);
    const docs = fs.readFileSync(path.join(dir, 'k8s/deployment.yaml'), 'utf8');
    const dep = parse(docs);
    expect(dep.apiVersion).toBe('apps/v1');
    expect(dep.kind).toBe('Deployment');
    const pod = dep.spec.template.spec;
    const [c] = pod.containers;
    const env = Object.fromEntries(c.env.map((e: { name: string }) => [e.name, e]));
    expect(env.VERK_NODE_ID.valueFrom.fieldRef.fieldPath).toBe('metadata.name');
    expect(env.REDIS_URL.valueFrom.secretKeyRef).toBeTruthy();
    expect(env.VERK_SHUTDOWN_TIMEOUT.value).toBe('25s');
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    const port = c.ports.find((p: { name: string }) => p.name === 'health');
    expect(String(port.containerPort)).toBe(env.VERK_HEALTH_PORT.value);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'health' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(c.resources.requests.cpu).toBeTruthy();
    expect(c.resources.requests.memory).toBeTruthy();
    expect(dep.spec.selector.matchLabels).toEqual(dep.spec.template.metadata.labels);

    const compose = parse(read(dir, 'docker-compose.yml'));
    expect(Object.keys(compose.services).sort()).toEqual(['redis', 'worker']);
    expect(compose.services.worker.environment.REDIS_URL).toBe('redis://redis:6379/0');
    expect(compose.services.worker.stop_grace_period).toBe('30s');

    const dockerfile = read(dir, 'Dockerfile');
    expect(dockerfile).toMatch(/^FROM node:20-slim$/m);
    expect(dockerfile).toMatch(/^RUN npm ci/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*\/livez/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \[".*verk", "work"\]$/m);
    expect(JSON.parse(read(dir, 'package.json')).dependencies['verk-ts']).toBeTruthy();
  });

  it('refuses to overwrite existing files without --force, naming them, and writes nothing then', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM mine\n');
    fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"mine"}\n');
    const res = await verk(['init'], { cwd: dir });
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/refusing to overwrite existing files.*Dockerfile/);
    expect(res.stderr).toMatch(/--force/);
    expect(res.stderr).not.toMatch(/package\.json/);
    expect(read(dir, 'Dockerfile')).toBe('FROM mine\n');
    expect(fs.existsSync(path.join(dir, 'verk.config.ts'))).toBe(false);

    const forced = await verk(['init', '--force'], { cwd: dir });
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toMatch(/replaced\s+Dockerfile/);
    expect(forced.stdout).toMatch(/kept\s+package\.json/);
    expect(read(dir, 'Dockerfile')).toMatch(/^FROM node:20-slim$/m);
    // An existing package.json is the user's: never replaced, not even by --force.
    expect(read(dir, 'package.json')).toBe('{"name":"mine"}\n');

    fs.writeFileSync(path.join(dir, 'verk.config.ts'), '// edited\nexport default {};\n');
    const again = await verk(['init'], { cwd: dir });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/verk\.config\.ts, jobs\/Example\.ts, Dockerfile, \.dockerignore, docker-compose\.yml, k8s\/deployment\.yaml/);
    expect(read(dir, 'verk.config.ts')).toBe('// edited\nexport default {};\n');
  });
});
