// CLI entry: builds the commander program and maps every failure to one clear line and an
// exit code (0 ok, 1 runtime, 64 usage, 78 config).
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { ConfigError, UsageError, EXIT } from '../util/errors.js';
import { redactText } from '../util/redact.js';
import { paint } from './render.js';

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // Exit now: a failed command (e.g. `verk work` refused at start) may still hold connections.
    process.exit(report(err));
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
    return EXIT.usage; // commander already printed its message
  }
  const e = (unreachable(err) ?? err) as Error & { exitCode?: number };
  const code = err instanceof ConfigError ? EXIT.config : err instanceof UsageError ? EXIT.usage : e.exitCode ?? EXIT.runtime;
  const label = code === EXIT.config ? 'config error' : code === EXIT.usage ? 'usage error' : 'error';
  process.stderr.write(`${paint.red(`verk: ${label}:`)} ${redactText(e?.message ?? String(err))}\n`);
  return code;
}

/** ioredis's "max retries per request" says nothing useful to an operator: say what it means. */
function unreachable(err: unknown): Error | undefined {
  const msg = (err as Error)?.message ?? '';
  if ((err as Error)?.name !== 'MaxRetriesPerRequestError' && !/max retries per request|Connection is closed/i.test(msg)) return undefined;
  return new Error('Redis is not reachable (connection refused, closed or timed out): check --redis-url / REDIS_URL and that the server is up');
}
