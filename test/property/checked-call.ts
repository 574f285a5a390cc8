// One checked script call of the property tests: census before, the script by raw EVALSHA,
// census after, and the conservation rule (conservation.ts) plus the reply's own counts; a
// broken call throws with the script, its arguments, its reply or error and what went wrong.
// Also the fast-check command classes the command arbitraries (commands.ts) build.
import type fc from 'fast-check';
import { census, violations, type Allowance, type Census } from './conservation.js';
import { runScript, scalar, type Arg, type Reply } from './lua-runner.js';
import type { World } from './world.js';

type Model = Record<string, never>;
export type Cmd = fc.AsyncCommand<Model, World>;

export interface Call {
  script: string;
  keys: Arg[];
  argv: Arg[];
  allow?: (reply: Reply | undefined) => Allowance;
  /** Does a successful reply tell the truth about what the census shows? (a complaint, or undefined) */
  verify?: (reply: Reply, before: Census, after: Census) => string | undefined;
}

/** Calls observed per script (how many errored, how many refused as wrongtype), for the [measured] line. */
export const stats = new Map<string, { calls: number; errors: number; refusals: number }>();

const hex = (b: Buffer) => (b.length > 40 ? `${b.subarray(0, 30).toString('latin1')}…(${b.length}B)` : b.toString('latin1'));
const show = (a: Arg) => JSON.stringify(Buffer.isBuffer(a) ? hex(a) : a);

/** Runs a call and throws if it broke conservation (the script's own error is not a failure). */
export async function checkedCall(w: World, c: Call): Promise<void> {
  const before = await census(w.redis);
  let reply: Reply | undefined;
  let error: Error | undefined;
  try {
    reply = await runScript(w.redis, c.script, c.keys, c.argv);
  } catch (err) {
    error = err as Error;
  }
  const s = stats.get(c.script) ?? { calls: 0, errors: 0, refusals: 0 };
  s.calls++;
  if (error) s.errors++;
  stats.set(c.script, s);
  const after = await census(w.redis);
  // A script that refuses because a key has the wrong type must have written nothing.
  const refused = Array.isArray(reply) && reply.length > 0 && scalar(reply[0]) === 'wrongtype';
  if (refused) s.refusals++;
  const allow = refused ? { places: [] } : c.allow ? c.allow(error ? undefined : reply) : {};
  const bad = violations(before, after, allow);
  const lie = !error && !refused && reply !== undefined && c.verify ? c.verify(reply, before, after) : undefined;
  if (lie) bad.push({ kind: 'reply', payload: lie });
  if (bad.length) {
    throw new Error(
      `${c.script}(KEYS ${c.keys.map(show).join(' ')} ARGV ${c.argv.map(show).join(' ')}) ${error ? `errored "${error.message}"` : `replied ${JSON.stringify(flat(reply))}`} and broke conservation:\n` +
        bad.map((v) => `  ${v.kind} ${v.payload}${v.from?.length ? ` (${v.kind === 'lost' ? 'was in' : 'now in'} ${v.from.join(', ')})` : ''}`).join('\n'),
    );
  }
}

/** A complaint when a count in the reply differs from what the census shows. */
export function agree(said: string, n: number, seen: string, m: number): string | undefined {
  return n === m ? undefined : `${said} ${n}, but ${seen} ${m}`;
}

function flat(r: Reply | undefined): unknown {
  if (Array.isArray(r)) return r.map(flat);
  return r === undefined ? null : scalar(r);
}

/** A fault or setup step that is not a script call (not checked), named for counterexamples. */
export class StepCmd implements Cmd {
  constructor(
    private readonly label: string,
    private readonly step: (w: World) => Promise<unknown>,
  ) {}
  check(): boolean {
    return true;
  }
  async run(_m: Model, w: World): Promise<void> {
    await this.step(w);
  }
  toString(): string {
    return this.label;
  }
}

/** A command that builds its script call from the current state and checks it. */
export class ScriptCmd extends StepCmd {
  constructor(label: string, build: (w: World) => Promise<Call>) {
    super(label, async (w) => checkedCall(w, await build(w)));
  }
}
