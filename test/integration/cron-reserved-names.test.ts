// Entry names become key names (verk:cron:<name>), and two keys of that space are shared by all
// entries: verk:cron:paused (the paused set) and verk:cron:entries (the names seen). An entry
// named "paused" or "entries" would arm a hash over the shared key, and then every entry's tick
// fails with a wrong type (and `verk cron pause` too): the config refuses those names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCron, type CronEntry } from '../../src/config/cron.js';
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

const parse = (v: unknown) =>
  parseCron(v, (why) => {
    throw new Error(why);
  });

describe('cron entry names that are the shared keys', () => {
  for (const name of ['paused', 'entries']) {
    it(`"${name}" is refused, or it does not break the other entries`, async () => {
      await server.client.flushdb();
      let entries: CronEntry[];
      try {
        entries = parse({ [name]: { class: 'Reports.A', schedule: '* * * * * *' }, healthy: { class: 'Reports.B', schedule: '* * * * * *', queue: 'q_healthy' } });
      } catch (err) {
        expect((err as Error).message).toContain(`entry "${name}"`);
        expect((err as Error).message).toContain('reserved');
        return;
      }
      const duty = new CronDuty(new Scripts(server.client, keys), { cron: entries, maxRecoveries: 3 }, silentLogger, 'sup');
      await waitFor(
        async () => {
          await duty.tick().catch(() => undefined);
          return (await server.client.llen(keys.queue('q_healthy'))) > 0;
        },
        { timeoutMs: 10_000, intervalMs: 100, what: 'the healthy entry fires' },
      );
      expect(await server.client.sadd(keys.cronPaused, 'healthy')).toBe(1);
    }, 30_000);
  }
});
