// `verk quiet <node|--all>` / `verk stop <node|--all>`: remote control through Redis as
// Sidekiq's Web UI does it: TSTP (quiet: stop fetching, finish running jobs) or TERM (graceful
// stop) is pushed to `<identity>-signals`; the process acts on it at its next beat. <node> is a
// process identity (as in Sidekiq) or a verk node id (its supervisor is signalled).
import type { Command } from 'commander';
import { resolveProcesses, signalProcesses, type RemoteSignal } from '../../api/processes.js';
import { UsageError } from '../../util/errors.js';
import { withAdmin } from '../admin-session.js';
import { withConnectionOptions } from '../options.js';
import { printJson } from '../render.js';

export function registerControl(program: Command): void {
  for (const [verb, signal] of [
    ['quiet', 'TSTP'],
    ['stop', 'TERM'],
  ] as [string, RemoteSignal][]) {
    withConnectionOptions(program.command(verb))
      .description(verb === 'quiet' ? 'make a process stop fetching new jobs (running jobs finish), like SIGTSTP' : 'make a process stop gracefully, like SIGTERM')
      .argument('[node]', 'process identity (host:pid:nonce) or verk node id')
      .option('--all', 'every live process in the `processes` set (Sidekiq processes too)')
      .option('--json', 'print {"signal","targets":[{"identity","hostname","pid"}]}')
      .action(async (node: string | undefined, opts: Record<string, unknown>) => {
        if (node === undefined && !opts.all) throw new UsageError(`name a node or use --all (e.g. verk ${verb} --all)`);
        if (node !== undefined && opts.all) throw new UsageError('name a node or use --all, not both');
        const targets = await withAdmin(opts, async (ctx) => {
          const found = await resolveProcesses(ctx, node); // UnknownProcessError: exit 1
          await signalProcesses(
            ctx,
            found.map((p) => p.identity),
            signal,
          );
          return found;
        });
        if (opts.json) return printJson({ signal, targets: targets.map((p) => ({ identity: p.identity, hostname: p.hostname, pid: p.pid })) });
        if (targets.length === 0) return void process.stdout.write('no live processes\n');
        for (const p of targets) process.stdout.write(`sent ${signal} to ${p.identity} (${verb === 'quiet' ? 'quiet' : 'stop'} at its next beat)\n`);
      });
  }
}
