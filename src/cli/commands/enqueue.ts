// `verk enqueue <Class> [args…]`: puts one job in its queue (or in `schedule` with --in/--at).
// Each argument that is valid JSON is kept as that JSON text, byte for byte; others are strings.
// An argument that looks like JSON (starts with { [ or ") but does not parse is refused (exit 64)
// unless --raw sends every argument as a string; so is a class name no handler can have.
// When the handlers directory has the class's module, its options.unique is honoured (only the
// options are read, perform is never called): a duplicate prints the holder's jid and exits 0,
// with `enqueued: false` under --json (docs/unique-jobs.md).
import type { Command } from 'commander';
import { Client } from '../../api/client.js';
import { isClusterUrl } from '../../config/shard-worlds.js';
import { loadHandlerOptions } from '../../core/handlers.js';
import { checkDatabase } from '../../redis/database-check.js';
import { parseDuration } from '../../util/duration.js';
import { UsageError } from '../../util/errors.js';
import { CLASS_NAME, QUEUE_NAME } from '../../job/names.js';
import { withConfigOptions, withConnectionOptions, loadForCommand } from '../options.js';
import { printJson } from '../render.js';

export function registerEnqueue(program: Command): void {
  withConfigOptions(withConnectionOptions(program.command('enqueue')), ['handlers'])
    .description('enqueue a job, e.g. verk enqueue Mailers.Welcome \'{"user":42}\' --queue mail')
    .argument('<class>', 'job class (the handler path, e.g. Mailers.Welcome)')
    .argument('[args...]', 'job arguments; JSON values are kept as JSON, other words are strings; text that starts like JSON must parse (or use --raw)')
    .option('--queue <name>', 'queue name', 'default')
    .option('--in <duration>', 'run after this delay, e.g. 30s, 10m')
    .option('--at <time>', 'run at this ISO 8601 time, e.g. 2030-01-01T09:00:00Z')
    .option('--retry <n|false>', "retries for this job (default: the handler's or 25)")
    .option('--raw', 'send every argument as a string, even one that looks like JSON')
    .option('--no-unique', "ignore the handler's unique option (enqueue even while a job holds its lock)")
    .option('--json', 'print the result as JSON')
    .action(async (className: string, args: string[], opts: Record<string, unknown>) => {
      checkClassName(className);
      const argsJson = argsToJson(args, Boolean(opts.raw));
      const { config } = await loadForCommand({ config: opts.config, redisUrl: opts.redisUrl, prefix: opts.prefix, handlers: opts.handlers });
      const handler = opts.unique === false ? undefined : await loadHandlerOptions(config.handlers, className);
      const unique = handler?.options.unique;
      const job = {
        class: className,
        argsJson,
        queue: opts.queue as string,
        ...(opts.retry !== undefined ? { retry: parseRetry(String(opts.retry)) } : {}),
        ...(unique ? { unique } : {}),
      };
      if (!QUEUE_NAME.test(job.queue)) throw new UsageError(`--queue ${JSON.stringify(job.queue)}: use letters, digits, _ . - only`);
      const at = runAt(opts.in as string | undefined, opts.at as string | undefined);
      const client = new Client({
        redisUrl: config.redisUrl,
        prefix: config.prefix,
        sentinelPassword: config.sentinelPassword,
        durability: config.durability,
        durabilityTimeout: config.durabilityTimeout,
        redisCommandTimeout: config.redisCommandTimeout,
      });
      try {
        // The cluster layout has only database 0 (the URL allows no other).
        if (!isClusterUrl(config.redisUrl)) await checkDatabase(client.redis, config.redisUrl);
        const { jid, enqueued } = await client.push(job, at);
        const scheduled = at !== undefined && at > Date.now();
        if (opts.json)
          printJson({
            jid,
            queue: job.queue,
            class: className,
            scheduled_at: scheduled && enqueued ? new Date(at).toISOString() : null,
            enqueued,
            ...(unique ? { unique: true } : {}),
          });
        else {
          process.stdout.write(`${jid}\n`);
          if (!enqueued) process.stderr.write(`not enqueued: job ${jid} holds the unique lock of ${className} for these args (see verk unique why)\n`);
        }
      } finally {
        await client.close();
      }
      // An imported handler module may hold handles of its own (its own Redis client, timers): they
      // must not keep a finished `verk enqueue` alive (a failure exits through main's error path).
      if (handler) await new Promise<void>((r) => process.stdout.write('', () => r())).then(() => process.exit(process.exitCode ?? 0));
    });
}

export { CLASS_NAME };

function checkClassName(name: string): void {
  if (CLASS_NAME.test(name)) return;
  throw new UsageError(
    `class ${JSON.stringify(name)} is not a job class name: use letters, digits, _ and -, ` +
      'in segments joined by . or :: (e.g. Mailers.Welcome, Mailers::Welcome, Elixir.Mailers.Welcome)',
  );
}

/** The args array as JSON text. Without `raw`, JSON arguments are kept byte for byte. */
export function argsToJson(args: string[], raw = false): string {
  return `[${args.map((a, i) => (raw ? JSON.stringify(a) : argJson(a, i + 1))).join(',')}]`;
}

function argJson(text: string, position: number): string {
  const trimmed = text.trim();
  try {
    JSON.parse(trimmed);
    return trimmed;
  } catch (err) {
    if (!/^[{["]/.test(trimmed)) return JSON.stringify(text);
    throw new UsageError(
      `argument ${position} looks like JSON but does not parse: ${(err as Error).message}\n` +
        `  ${text}\n  (fix the JSON, or pass --raw to send every argument as a plain string)`,
    );
  }
}

function parseRetry(v: string): boolean | number {
  if (v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  throw new UsageError(`--retry ${v}: use a whole number, true or false`);
}

function runAt(delay: string | undefined, at: string | undefined): number | undefined {
  if (delay !== undefined && at !== undefined) throw new UsageError('use --in or --at, not both');
  if (delay !== undefined) {
    try {
      return Date.now() + parseDuration(delay);
    } catch (err) {
      throw new UsageError(`--in: ${(err as Error).message}`);
    }
  }
  if (at !== undefined) {
    const t = Date.parse(at);
    if (Number.isNaN(t)) throw new UsageError(`--at ${JSON.stringify(at)} is not an ISO 8601 time (e.g. 2030-01-01T09:00:00Z)`);
    return t;
  }
  return undefined;
}
