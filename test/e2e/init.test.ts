// `verk init` with the built CLI: `verk init myapp` then the very commands it prints (cd, npm
// install, npx verk work, npx verk enqueue) install and run the project from a temp dir (the
// verk-ts dependency is this installation, packed into vendor/); the generated project runs
// under `verk work` against a private Redis, the YAML files parse and say what the issue asks (Deployment, downward-API
// node id, grace period = shutdown timeout + 5 s, probes, requests), and --force rules hold.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { execa } from 'execa';
import { startWorker, signalGroup, verk } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { fastArgs, jsonLines } from '../helpers/e2e-kit.js';

const FILES = [
  'verk.config.ts',
  'jobs/Example.ts',
  'Dockerfile',
  '.dockerignore',
  'docker-compose.yml',
  'k8s/deployment.yaml',
  'k8s/keda-scaledobject.yaml',
  'k8s/hpa.yaml',
  'package.json',
];

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  await redis.client.flushdb();
});

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'verk-init-'));
const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), 'utf8');

/** The shell commands under "Next:" up to the docker ones, without their comments. */
function printedCommands(stdout: string): string[] {
  const next = stdout.slice(stdout.indexOf('Next:') + 'Next:'.length).split('\n');
  return next.map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l && !/^(docker|kubectl)\b/.test(l));
}

describe('verk init', () => {
  it('verk init myapp, then the printed commands: npm install works and npx verk runs the Example job', async () => {
    const parent = tempDir();
    const t0 = Date.now();
    const res = await verk(['init', 'myapp'], { cwd: parent });
    expect(res.exitCode).toBe(0);
    const cmds = printedCommands(res.stdout);
    expect(cmds.slice(0, 2)).toEqual(['cd myapp', 'npm install']);
    const work = cmds.find((c) => /npx verk work$/.test(c))!;
    const enqueue = cmds.find((c) => /^npx verk enqueue Example/.test(c))!;
    expect(work).toBe('REDIS_URL=redis://127.0.0.1:6379/0 npx verk work');
    const dir = path.join(parent, 'myapp');
    const pkg = JSON.parse(read(dir, 'package.json'));
    expect(pkg.dependencies['verk-ts']).toMatch(/^file:vendor\/verk-ts-[\d.]+\.tgz$/);
    expect(fs.existsSync(path.join(dir, pkg.dependencies['verk-ts'].slice('file:'.length)))).toBe(true);
    expect(read(dir, 'Dockerfile')).toMatch(/^COPY vendor \.\/vendor$/m);

    // Exactly the printed `npm install`; the npm_config_* env only keeps it quick (cache first, no audit).
    const env = { npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    const sh = (line: string, extra: Record<string, string> = {}) =>
      execa('sh', ['-c', line], { cwd: dir, reject: false, env: { ...env, NO_COLOR: '1', ...extra }, timeout: 120_000 });
    const t1 = Date.now();
    const install = await sh('npm install');
    expect(install.exitCode, install.stderr).toBe(0);
    const installMs = Date.now() - t1;
    expect(fs.existsSync(path.join(dir, 'package-lock.json'))).toBe(true);
    expect(fs.realpathSync(path.join(dir, 'node_modules/verk-ts'))).toBe(path.join(fs.realpathSync(dir), 'node_modules/verk-ts')); // a copy, not a link to this checkout
    expect((await sh('npx verk --version')).stdout.trim()).toBe(JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);

    // The private Redis stands in for the printed 127.0.0.1:6379 (never the shared one).
    const privateUrl = (line: string) => line.replace('redis://127.0.0.1:6379/0', redis.url);
    const worker = execa('sh', ['-c', `${privateUrl(work)} --processes 1`], { cwd: dir, reject: false, detached: true, all: true, env: { ...env, NO_COLOR: '1' } });
    let output = '';
    worker.all?.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const enq = await sh(enqueue, { REDIS_URL: redis.url });
      expect(enq.exitCode, enq.stderr).toBe(0);
      await waitFor(async () => (await redis.client.get('stat:processed:default')) === '1', { timeoutMs: 30_000, what: 'the Example job to run' });
      await waitFor(() => output.includes('hello from Example'), { timeoutMs: 5_000, what: 'the Example log line' });
      expect(output).toContain('world');
      expect(await redis.client.get('stat:failed:default')).toBeNull();
    } finally {
      // The group holds sh and npm exec too (killed by the signal); verk itself stops cleanly.
      signalGroup(worker.pid!, 'SIGTERM');
      await worker;
      expect(output).toMatch(/"msg":"verk work stopped"/);
    }
    // The Dockerfile's install step (no Docker daemon here): only what it COPYs before
    // `npm ci --omit=dev` (package.json, package-lock.json, vendor/) in a fresh dir must install verk.
    const image = tempDir();
    for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(dir, f), path.join(image, f));
    fs.cpSync(path.join(dir, 'vendor'), path.join(image, 'vendor'), { recursive: true });
    const ci = await execa('npm', ['ci', '--omit=dev'], { cwd: image, reject: false, env, timeout: 120_000 });
    expect(ci.exitCode, ci.stderr).toBe(0);
    expect((await execa(path.join(image, 'node_modules/.bin/verk'), ['--version'], { reject: false })).exitCode).toBe(0);
    console.log(`[measured] verk init + npm install + first job: ${Date.now() - t0} ms (npm install ${installMs} ms)`);
  }, 120_000);

  it('without npm on PATH, depends on the installation directory and says a Docker build cannot see it', async () => {
    const bin = tempDir();
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const dir = tempDir();
    const res = await verk(['init'], { cwd: dir, env: { PATH: bin } });
    expect(res.exitCode, res.stderr).toBe(0);
    const root = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
    expect(JSON.parse(read(dir, 'package.json')).dependencies['verk-ts']).toBe(`file:${root}`);
    expect(res.stdout).toMatch(/note: could not pack this verk installation .*a Docker build cannot see\./);
    expect(fs.existsSync(path.join(dir, 'vendor'))).toBe(false);
  });

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

  it('writes a Deployment with the downward-API node id, a grace period of preStop + shutdown timeout + 5 s, probes and requests', async () => {
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
    expect(pod.terminationGracePeriodSeconds).toBe(40);
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
    expect(again.stderr).toMatch(
      /verk\.config\.ts, jobs\/Example\.ts, Dockerfile, \.dockerignore, docker-compose\.yml, k8s\/deployment\.yaml, k8s\/keda-scaledobject\.yaml, k8s\/hpa\.yaml/,
    );
    expect(read(dir, 'verk.config.ts')).toBe('// edited\nexport default {};\n');
  });
});
