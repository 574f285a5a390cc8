// The queue worlds of the Redis Cluster layout that exist on a cluster (docs/redis-cluster.md):
// found by SCAN on every master for each world's queue set, node registry and sorted sets
// (`<prefix>{<queue>}:queues`, `:verk_nodes`, `:schedule`, `:retry`, `:dead`), on short-lived
// connections with bounded commands.
import { connectRedis } from '../redis/connection.js';
import { parseRedisUrl } from '../util/redis-url.js';
import { globEscape } from './queues.js';

/** The keys whose presence says a world exists (the single-Redis layout's names after the world prefix). */
const WORLD_KEYS = ['queues', 'verk_nodes', 'schedule', 'retry', 'dead'];

/** At most this many SCAN rounds per master (a cluster with millions of keys is cut short, not hung). */
const MAX_SCAN_ROUNDS = 10_000;

/** The queue names of every world found on the masters. */
export async function scanWorlds(clusterUrl: string, prefix: string, masters: { host: string; port: number }[]): Promise<string[]> {
  const { cluster } = parseRedisUrl(clusterUrl);
  const auth = cluster?.password !== undefined ? `${encodeURIComponent(cluster.username ?? '')}:${encodeURIComponent(cluster.password)}@` : '';
  const found = new Set<string>();
  const tagged = new RegExp(`^${regexEscape(prefix)}\\{([^{}]+)\\}:(?:${WORLD_KEYS.join('|')})$`);
  for (const m of masters) {
    const host = m.host.includes(':') ? `[${m.host}]` : m.host;
    const redis = connectRedis(`redis://${auth}${host}:${m.port}/0`, { name: 'verk:admin:scan', oneShot: true, maxRetriesPerRequest: 1 });
    try {
      for (const pattern of WORLD_KEYS.map((k) => `${globEscape(prefix)}\\{*\\}:${k}`)) {
        let cursor = '0';
        let rounds = 0;
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          for (const k of keys) {
            const q = tagged.exec(k)?.[1];
            if (q) found.add(q);
          }
        } while (cursor !== '0' && ++rounds < MAX_SCAN_ROUNDS);
      }
    } finally {
      redis.disconnect();
    }
  }
  return [...found];
}

const regexEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
