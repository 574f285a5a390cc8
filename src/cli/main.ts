// CLI entry: builds the commander program and maps every failure to one clear line and an
// exit code through the error's own code (src/util/errors.ts: 0 ok, 1 runtime, 64 usage,
// 78 config). Output into a closed pipe (`verk stats | head -1`) ends the command quietly with 0.
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { EXIT, exitCodeOf } from '../util/errors.js';
import { watchStream } from '../util/logger.js';
import { redactText } from '../util/redact.js';
import { paint } from './render.js';
import { runPerShard, ShardedCommand } from './shard-run.js';

export async function main(argv: string[]): Promise<void> {
  guardOutput();
  const program = buildProgram();
  try {
    await program.parseAsync(argv).catch(async (err: unknown) => {
      if (!(err instanceof ShardedCommand)) throw err;
      // The Redis Cluster layout: the same command once inside each queue world (a fresh program each time).
      await runPerShard(err.worlds, argv.includes('--json'), () =>
        buildProgram()
          .parseAsync(argv)
          .then(() => undefined),
      );
    });
  } catch (err) {
    // Exit now: a failed command (e.g. `verk work` refused at start) may still hold connections.
    process.exit(report(err));
  }
}

/**
 * The reader of stdout went away (EPIPE) or stdout failed otherwise: nobody will read the rest,
 * so stop now, print nothing (stderr may be the same pipe) and exit 0 for EPIPE, 1 otherwise.
 * Commands print their result after their Redis work is done, so nothing is left half-done.
 * stderr only gets marked broken (its writes then stop; see the logger).
 */
function guardOutput(): void {
  watchStream(process.stdout, (err) => process.exit((err as NodeJS.ErrnoException).code === 'EPIPE' ? EXIT.ok : EXIT.runtime));
  watchStream(process.stderr);
}

const LABEL: Record<number, string> = { [EXIT.config]: 'config error', [EXIT.usage]: 'usage error' };

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
    return EXIT.usage; // commander already printed its message
  }
  const shown = unreachable(err) ?? err;
  const code = exitCodeOf(err);
  process.stderr.write(`${paint.red(`verk: ${LABEL[code] ?? 'error'}:`)} ${redactText((shown as Error)?.message ?? String(err))}\n`);
  return code;
}

/** ioredis's "max retries per request" says nothing useful to an operator: say what it means. */
function unreachable(err: unknown): Error | undefined {
  const msg = (err as Error)?.message ?? '';
  if ((err as Error)?.name !== 'MaxRetriesPerRequestError' && !/max retries per request|Connection is closed|^Command timed out$/i.test(msg)) return undefined;
  return new Error('Redis is not reachable (connection refused, closed or timed out): check --redis-url / REDIS_URL and that the server is up');
}
