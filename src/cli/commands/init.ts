// `verk init [dir] [--force]`: writes a working project from templates/ — verk.config.ts,
// jobs/Example.ts, Dockerfile (entrypoint `verk work`), .dockerignore, docker-compose.yml,
// k8s/deployment.yaml (with a preStop quiet), k8s/keda-scaledobject.yaml and k8s/hpa.yaml
// (autoscaling on latency and saturation), and package.json when there is none, plus vendor/verk-ts-<v>.tgz (this
// installation, packed: init-package.ts) that package.json depends on. Refuses to overwrite
// existing files unless --force; prints what it wrote and the commands to run next.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { DEFAULTS, INIT_DEFAULTS } from '../../config/defaults.js';
import { parseQueues } from '../../config/queues.js';
import { formatDuration } from '../../util/duration.js';
import { VERSION } from '../../version.js';
import { paint } from '../render.js';
import { vendorVerk } from './init-package.js';

const TEMPLATES = fileURLToPath(new URL('../../../templates/', import.meta.url));

interface TemplateFile {
  from: string;
  to: string;
  /** An existing file is left alone (never a conflict, not even overwritten by --force). */
  keepExisting?: boolean;
}

export const INIT_FILES: readonly TemplateFile[] = [
  { from: 'verk.config.ts', to: 'verk.config.ts' },
  { from: 'jobs/Example.ts', to: 'jobs/Example.ts' },
  { from: 'Dockerfile', to: 'Dockerfile' },
  { from: 'dockerignore', to: '.dockerignore' },
  { from: 'docker-compose.yml', to: 'docker-compose.yml' },
  { from: 'k8s/deployment.yaml', to: 'k8s/deployment.yaml' },
  { from: 'k8s/keda-scaledobject.yaml', to: 'k8s/keda-scaledobject.yaml' },
  { from: 'k8s/hpa.yaml', to: 'k8s/hpa.yaml' },
  { from: 'package.json', to: 'package.json', keepExisting: true },
];

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a verk project: config, example job, Dockerfile, docker-compose.yml, Kubernetes Deployment')
    .argument('[dir]', 'project directory (created if missing)', '.')
    .option('--force', 'overwrite files that already exist')
    .action((dir: string, opts: { force?: boolean }) => {
      const root = path.resolve(dir);
      const existing = INIT_FILES.filter((f) => !f.keepExisting && fs.existsSync(path.join(root, f.to)));
      if (existing.length > 0 && !opts.force) {
        throw new Error(
          `refusing to overwrite existing files in ${root}: ${existing.map((f) => f.to).join(', ')} — run \`verk init${dir === '.' ? '' : ' ' + dir} --force\` to replace them`,
        );
      }
      fs.mkdirSync(root, { recursive: true });
      const dep = vendorVerk(root);
      const vars: Record<string, string> = { ...templateVars(root), VERK_DEPENDENCY: dep.spec };
      const out: string[] = [];
      if (dep.tarball) out.push(`${paint.green('created')}   ${dep.tarball} (this verk installation, packed; package.json depends on it)`);
      for (const f of INIT_FILES) {
        const target = path.join(root, f.to);
        const exists = fs.existsSync(target);
        if (exists && f.keepExisting) {
          out.push(`${paint.yellow('kept')}      ${f.to} (already there; add "verk-ts": "${dep.spec}" to its dependencies)`);
          continue;
        }
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, render(readTemplate(f.from), vars));
        out.push(`${exists ? paint.yellow('replaced') : paint.green('created')}  ${' '.repeat(exists ? 0 : 1)}${f.to}`);
      }
      const cd = path.resolve(process.cwd()) === root ? '' : dir;
      process.stdout.write(
        [
          `verk project in ${root}`,
          ...out.map((l) => '  ' + l),
          '',
          'Next:',
          ...(cd ? [`  cd ${cd}`] : []),
          '  npm install                                   # also writes package-lock.json for the Dockerfile',
          '  REDIS_URL=redis://127.0.0.1:6379/0 npx verk work',
          `  npx verk enqueue Example '"world"'           # in another terminal`,
          '  docker compose up --build                     # Redis + worker, health on port ' + vars.HEALTH_PORT,
          `  docker build -t ${vars.NAME} . && kubectl apply -f k8s/deployment.yaml   # see the secret note at its top`,
          '  kubectl apply -f k8s/keda-scaledobject.yaml   # autoscaling with KEDA (or k8s/hpa.yaml: see their notes)',
          '',
          ...(dep.warning ? [paint.yellow(`note: ${dep.warning}; package.json depends on ${dep.spec}, which a Docker build cannot see.`), ''] : []),
        ].join('\n'),
      );
    });
}

function templateVars(root: string): Record<string, string> {
  const name = path
    .basename(root)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  const [first] = parseQueues(DEFAULTS.queues, (why) => {
    throw new Error(`the default queues ${why}`);
  });
  // The Deployment runs one worker process per pod (VERK_PROCESSES=1).
  const slots = first.concurrency;
  const i = INIT_DEFAULTS;
  return {
    NAME: /^[a-z]/.test(name) ? name : i.name,
    VERSION,
    QUEUES: DEFAULTS.queues,
    QUEUE: first.name,
    SHUTDOWN_TIMEOUT: formatDuration(DEFAULTS.shutdownTimeout),
    PRESTOP_SECONDS: String(i.preStopSeconds),
    // Docker's stop: SIGTERM at once. Kubernetes: the preStop hook's quiet first, inside the grace period.
    STOP_GRACE_SECONDS: String(Math.ceil((DEFAULTS.shutdownTimeout + i.graceMarginMs) / 1000)),
    GRACE_SECONDS: String(i.preStopSeconds + Math.ceil((DEFAULTS.shutdownTimeout + i.graceMarginMs) / 1000)),
    HEALTH_PORT: String(i.healthPort),
    MIN_REPLICAS: String(i.minReplicas),
    MAX_REPLICAS: String(i.maxReplicas),
    LATENCY_TARGET_SECONDS: String(i.latencyTargetSeconds),
    SATURATION_TARGET: String(i.saturationTarget),
    SATURATION_PERCENT: String(Math.round(i.saturationTarget * 100)),
    SLOTS_PER_POD: String(slots),
    BUSY_PER_POD_TARGET: String(Math.max(1, Math.round(slots * i.saturationTarget * 100) / 100)),
  };
}

function readTemplate(name: string): string {
  const file = path.join(TEMPLATES, name);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`template ${file} is missing: the verk installation is incomplete (reinstall the package)`);
  }
}

/** Replaces {{KEY}}; an unknown key is a bug in the templates, so it throws. */
export function render(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_m, key: string) => {
    if (!(key in vars)) throw new Error(`template placeholder {{${key}}} has no value`);
    return vars[key];
  });
}
