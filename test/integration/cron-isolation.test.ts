// One broken periodic entry must not stop the others: a key of the wrong type (someone SET
// verk:cron:<name>:history, or queue:<q> of one entry is a hash) fails that entry's tick, and
// every other entry of the same supervisor still fires its ticks.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCron } from '../../src/config/cron.js';
import { CronDuty } from '../../src/core/duties/cron.js';
import { makeKeys } from '../../src/redis/keys.js';
import { Scripts } from '../../src/redis/scripts.js';
import { silentLogger } from '../../src/util/logger.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

let server: RedisServer;
const keys = makeKeys('');

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => server.stop());
beforeEach(async () => {
  await server.client.flushdb();
});

const entries = () =>
  parseCron(
    {
      broken: { class: 'Reports.Broken', schedule: '* * * * * *', queue: 'q_broken' },
      healthy: { class: 'Reports.Healthy', schedule: '* * * * * *', queue: 'q_healthy' },
    },
    (why) => {
      throw new Error(why);
    },
  );

/** Rounds of the duty until `healthy` has fired a job (errors of a round are kept, not thrown). */
async function roundsUntilHealthyFires(duty: CronDuty): Promise<string[]> {
  const errors: string[] = [];
  await waitFor(
    async () => {
      await duty.tick().catch((err: Error) => errors.push(err.message));
      return (await server.client.llen(keys.queue('q_healthy'))) > 0;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: 'the healthy entry fires' },
  );
  return errors;
}

describe('a broken cron entry', () => {
  it('whose state hash has the wrong type does not stop the next entry', async () => {
    await server.client.set(keys.cronState('broken'), 'not a hash');
    const duty = new CronDuty(new Scripts(server.client, keys), { cron: entries(), maxRecoveries: 3 }, silentLogger, 'sup');
    const errors = await roundsUntilHealthyFires(duty);
    expect(errors.some((m) => m.includes('broken:'))).toBe(true);
    expect(await server.client.get(keys.cronState('broken'))).toBe('not a hash');
  }, 60_000);

  it('whose queue has the wrong type does not stop the next entry', async () => {
    await server.client.hset(keys.queue('q_broken'), 'x', '1');
    const duty = new CronDuty(new Scripts(server.client, keys), { cron: entries(), maxRecoveries: 3 }, silentLogger, 'sup');
    const errors = await roundsUntilHealthyFires(duty);
    expect(errors.some((m) => m.includes('broken:'))).toBe(true);
    expect(await server.client.type(keys.queue('q_broken'))).toBe('hash');
  }, 60_000);
});
