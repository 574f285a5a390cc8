// verk's mode A (a fixed node id) and Elixir verk nodes: a fixed id hands back what its earlier
// run left before it fetches, refuses an id another live process is using, and a node written
// by Elixir verk 1.6+ (same keys, no metadata) is reaped like ours.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startWorker, signalGroup, verk } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { doneCount, executions, workArgs, workEnv } from '../helpers/e2e.js';

let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => server.stop());
beforeEach(async () => {
  await server.client.flushdb();
});

const job = (jid: string) => JSON.stringify({ class: 'Count', args: [], jid, queue: 'default', retry: true });

it('a fixed node id first hands back the jobs its earlier run left, then runs them', async () => {
  // What a crashed `--node-id web-1 --fixed-node-id` left behind: its lists, no heartbeat.
  await server.client.sadd('verk_nodes', 'web-1');
  await server.client.sadd('verk:node:web-1:queues', 'default');
  await server.client.lpush('inprogress:default:web-1', job('left1'), job('left2'));
  const w = startWorker(workArgs(server, ['--queues', 'default:2', '--processes', '1', '--node-id', 'web-1', '--fixed-node-id']), { env: workEnv(server) });
  try {
    await waitFor(async () => (await doneCount(server.client)) === 2, { what: 'the left-over jobs to run' });
    const ex = await executions(server.client);
    expect(ex.get('left1')).toBe(1);
    expect(ex.get('left2')).toBe(1);
    expect(await server.client.sismember('verk_nodes', 'web-1')).toBe(1);
    expect(await server.client.exists('verk:node:web-1')).toBe(1);
  } finally {
    signalGroup(w.pid!, 'SIGTERM');
    expect((await w).exitCode).toBe(0);
  }
});

it('a fixed node id that another live process keeps renewing is refused (exit 78), its jobs untouched', async () => {
  await server.client.sadd('verk_nodes', 'web-2');
  await server.client.set('verk:node:web-2', 'alive', 'PX', 60_000);
  await server.client.sadd('verk:node:web-2:queues', 'default');
  await server.client.lpush('inprogress:default:web-2', job('busy1'));
  const res = await verk(
    ['work', ...workArgs(server, ['--node-id', 'web-2', '--fixed-node-id', '--processes', '1', '--heartbeat-interval', '100ms', '--node-ttl', '300ms'])],
    { env: workEnv(server) },
  );
  expect(res.exitCode).toBe(78);
  expect(res.stderr).toMatch(/node id web-2 is in use by a live node/);
  expect(await server.client.lrange('inprogress:default:web-2', 0, -1)).toEqual([job('busy1')]);
});

it('an Elixir verk node (verk_nodes + queues set, no metadata) that died is reaped by our nodes', async () => {
  await server.client.sadd('verk_nodes', '3735928559');
  await server.client.sadd('verk:node:3735928559:queues', 'default');
  // verk 1.x's own payload shape: args as a JSON string, integer seconds, nulls.
  const elixirJob =
    '{"args":"[1,2]","class":"Elixir.Count","created_at":null,"enqueued_at":1600000000,"error_backtrace":null,"error_message":null,"failed_at":null,"finished_at":null,"jid":"elixir-1","max_retry_count":25,"queue":"default","retried_at":null,"retry_count":0}';
  await server.client.lpush('inprogress:default:3735928559', elixirJob);
  const w = startWorker(workArgs(server, ['--queues', 'default:2', '--processes', '1']), { env: workEnv(server) });
  try {
    await waitFor(async () => (await doneCount(server.client)) === 1, { what: "the Elixir node's job to run" });
    expect((await executions(server.client)).get('elixir-1')).toBe(1);
    expect(await server.client.sismember('verk_nodes', '3735928559')).toBe(0);
    const [event] = (await server.client.lrange('verk:recoveries', 0, -1)).map((e) => JSON.parse(e));
    expect(event).toMatchObject({ node: '3735928559', moved: 1 });
  } finally {
    signalGroup(w.pid!, 'SIGTERM');
    expect((await w).exitCode).toBe(0);
  }
});
