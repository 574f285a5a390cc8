// The producer library: `new Client({ redisUrl })` then enqueue / enqueueIn / enqueueAt /
// enqueueBulk. Writes Sidekiq-shaped jobs (SADD queues + LPUSH, or ZADD schedule) that verk,
// Sidekiq and `verk work` all read. With durability 'replicated' each write is confirmed by a
// replica (WAIT) or the call throws UnreplicatedWriteError: the producer knows a failover may undo it.
// A job with `unique` (a handler's options.unique: docs/unique-jobs.md) is enqueued by one script
// that takes its lock and pushes it, or returns the jid of the job that holds the lock.
import type { Redis } from 'ioredis';
import { DEFAULTS } from '../config/defaults.js';
import { encodeNewJob, type NewJob } from '../job/codec.js';
import { uniqueLockFor, type UniqueOption } from '../job/unique.js';
import { Scripts } from '../redis/scripts.js';
import { connectRedis } from '../redis/connection.js';
import { makeKeys, type Keys } from '../redis/keys.js';
import { epochOf, replicaHas, UnreplicatedWriteError, type Durability } from '../redis/replication.js';
import { checkWorldName, isClusterUrl, worldPrefix } from '../config/shard-worlds.js';

export { UnreplicatedWriteError } from '../redis/replication.js';

export interface ClientOptions {
  /** redis:// or rediss:// URL (default redis://127.0.0.1:6379/0). */
  redisUrl?: string;
  /** Use an existing ioredis client instead (it is not closed by close()). */
  redis?: Redis;
  /** Key prefix; must match the workers' `prefix` (default none). */
  prefix?: string;
  /** The Sentinels' password for a redis+sentinel:// URL (else its ?sentinelPassword=). */
  sentinelPassword?: string;
  /**
   * 'replicated': every enqueue waits until a replica has it (WAIT 1 durabilityTimeout) and
   * throws UnreplicatedWriteError when none confirms it in time (the job may still be queued:
   * retrying can run it twice, never lose it). Default 'default': no wait.
   */
  durability?: Durability;
  /** How long an enqueue waits for a replica, in ms (default the config's durabilityTimeout, 1 s); at most half of redisCommandTimeout. */
  durabilityTimeout?: number;
  /** A command without a reply this long (ms) fails and the connection is re-made (default 5 s; not with `redis`). */
  redisCommandTimeout?: number;
}

export interface EnqueueJob extends Omit<NewJob, 'lock'> {
  /**
   * The handler's unique option (e.g. `unique: Rebuild.options.unique`): while a job holding the
   * same key exists, the enqueue pushes nothing and returns that job's jid.
   */
  unique?: UniqueOption;
}

/** What an enqueue did: `enqueued` false = refused as a duplicate; `jid` is then the lock holder's. */
export interface EnqueueResult {
  jid: string;
  enqueued: boolean;
}

export class Client {
  private readonly conn: Redis | undefined;
  readonly keys: Keys;
  /** The Redis Cluster layout (a redis+cluster:// URL): one client per queue world, made on first use. */
  private readonly shards: Map<string, { client: Client; redis: Redis }> | undefined;
  private readonly owned: boolean;
  /** WAIT timeout with durability 'replicated'; undefined: no wait. */
  private readonly waitMs: number | undefined;
  private scripts: Scripts | undefined;
  /** Enqueues refused because another job held the unique lock (for the producer's metrics). */
  refusedDuplicates = 0;

  constructor(opts: ClientOptions = {}) {
    const waitMs = opts.durabilityTimeout ?? DEFAULTS.durabilityTimeout;
    const bound = opts.redisCommandTimeout ?? DEFAULTS.redisCommandTimeout;
    // A WAIT longer than half the command bound would have its connection dropped as dead.
    if (opts.durability === 'replicated' && !opts.redis && waitMs * 2 > bound)
      throw new Error(`durabilityTimeout (${waitMs}ms) must be at most half of redisCommandTimeout (${bound}ms)`);
    this.owned = !opts.redis;
    this.keys = makeKeys(opts.prefix ?? '');
    if (!opts.redis && opts.redisUrl && isClusterUrl(opts.redisUrl)) {
      this.shards = new Map();
      this.opts = opts;
      return;
    }
    this.conn = opts.redis ?? producerConnection(opts);
    if (opts.durability === 'replicated') {
      this.waitMs = waitMs;
      epochOf(this.redis);
    }
  }

  private opts: ClientOptions = {};

  /** The connection (not in the Redis Cluster layout, where each queue world has its own: connectionFor). */
  get redis(): Redis {
    if (!this.conn) throw new Error('a redis+cluster:// client has one connection per queue: use connectionFor(queue)');
    return this.conn;
  }

  /** The connection the jobs of `queue` are written on. */
  connectionFor(queue: string): Redis {
    return this.shards ? this.shard(queue).redis : this.redis;
  }

  /** The client of a queue's world (docs/redis-cluster.md): its prefix, a connection pinned to its master. */
  private shard(queue: string): Client {
    let s = this.shards!.get(queue);
    if (!s) {
      checkWorldName(queue, 'enqueue');
      const o = this.opts;
      const redis = producerConnection(o, queue);
      s = { redis, client: new Client({ ...o, redisUrl: undefined, redis, prefix: worldPrefix(o.prefix ?? '', queue) }) };
      this.shards!.set(queue, s);
    }
    return s.client;
  }

  /** Runs a write; with durability 'replicated' throws UnreplicatedWriteError unless a replica confirms it. */
  private async confirmed(what: string, write: () => Promise<unknown>): Promise<void> {
    if (this.waitMs === undefined) {
      await write();
      return;
    }
    await write();
    // The connection the write was answered on (a write ioredis re-sent after a reconnect is on the new one).
    const since = epochOf(this.redis);
    let ok = false;
    try {
      ok = await replicaHas(this.redis, since, this.waitMs);
    } catch (err) {
      throw new UnreplicatedWriteError(what, (err as Error).message);
    }
    if (!ok) throw new UnreplicatedWriteError(what, epochOf(this.redis) === since ? `no replica within ${this.waitMs}ms` : 'the connection was re-made');
  }

  /** Puts a job at the back of its queue now. Returns its jid (a unique job refused: the holder's jid). */
  async enqueue(job: EnqueueJob): Promise<string> {
    return (await this.push(job)).jid;
  }

  /**
   * enqueue / enqueueAt that says whether the job was pushed (`at`: a Date or epoch ms; at once
   * when not in the future). For a unique job refused as a duplicate, `jid` is the holder's.
   */
  async push(job: EnqueueJob, at?: Date | number): Promise<EnqueueResult> {
    if (this.shards) {
      const res = await this.shard(job.queue ?? 'default').push(job, at);
      if (!res.enqueued) this.refusedDuplicates++;
      return res;
    }
    const atMs = at === undefined ? undefined : typeof at === 'number' ? at : at.getTime();
    if (atMs !== undefined && !Number.isFinite(atMs)) throw new Error('enqueueAt needs a valid time');
    const later = atMs !== undefined && atMs > Date.now();
    if (job.unique) return this.pushUnique(job, job.unique, later ? atMs : undefined);
    if (later) return { jid: await this.schedule(atMs, job), enqueued: true };
    return { jid: await this.pushNow(job), enqueued: true };
  }

  private async pushUnique(job: EnqueueJob, opt: UniqueOption, atMs: number | undefined): Promise<EnqueueResult> {
    const { unique: _, ...plain } = job;
    const args = job.args ?? (job.argsJson === undefined ? [] : (JSON.parse(job.argsJson) as unknown[]));
    const lock = uniqueLockFor(job.class, opt, Array.isArray(args) ? args : []);
    const { jid, queue, payload } = encodeNewJob({ ...plain, lock }, Date.now() / 1000, atMs === undefined);
    this.scripts ??= new Scripts(this.redis, this.keys);
    const scripts = this.scripts;
    let res = { enqueued: false, holder: '' };
    const call = async () => {
      res = await scripts.enqueueUnique({ key: lock.key, until: lock.until, ttlMs: lock.ttl, jid, payload, queue, at: atMs === undefined ? undefined : atMs / 1000 });
      // Sent again after a lost reply: the lock holds our own jid, the job went in the first time.
      if (res.holder === jid) res.enqueued = true;
    };
    await this.confirmed('enqueue', call);
    if (!res.enqueued) this.refusedDuplicates++;
    return { jid: res.enqueued ? jid : res.holder, enqueued: res.enqueued };
  }

  private async pushNow(job: EnqueueJob): Promise<string> {
    const { jid, queue, payload } = encodeNewJob(job, Date.now() / 1000, true);
    // Pipelined, not MULTI (as Sidekiq's client does): one write, sent at once, one round trip.
    await this.confirmed('enqueue', () => this.redis.pipeline().sadd(this.keys.queues, queue).lpush(this.keys.queue(queue), payload).exec().then(check));
    return jid;
  }

  /** Runs the job after `delayMs` milliseconds (at once if ≤ 0). */
  async enqueueIn(delayMs: number, job: EnqueueJob): Promise<string> {
    return this.enqueueAt(new Date(Date.now() + delayMs), job);
  }

  /** Runs the job at `at` (a Date or epoch milliseconds); at once if that is not in the future. */
  async enqueueAt(at: Date | number, job: EnqueueJob): Promise<string> {
    return (await this.push(job, at)).jid;
  }

  private async schedule(atMs: number, job: EnqueueJob): Promise<string> {
    const { jid, payload } = encodeNewJob(job, Date.now() / 1000, false);
    await this.confirmed('enqueue', () => this.redis.zadd(this.keys.schedule, atMs / 1000, payload));
    return jid;
  }

  /**
   * Enqueues many jobs with one SADD and one LPUSH per queue (Sidekiq's push_bulk). Returns the
   * jids in order. Unique jobs go one by one (each takes its lock), after the others.
   */
  async enqueueBulk(jobs: EnqueueJob[]): Promise<string[]> {
    if (this.shards) return this.bulkPerShard(jobs);
    const now = Date.now() / 1000;
    const byQueue = new Map<string, string[]>();
    const unique = new Map<number, EnqueueJob>();
    const jids = jobs.map((job, i) => {
      if (job.unique) {
        unique.set(i, job);
        return '';
      }
      const { jid, queue, payload } = encodeNewJob(job, now, true);
      let list = byQueue.get(queue);
      if (!list) byQueue.set(queue, (list = []));
      list.push(payload);
      return jid;
    });
    const multi = this.redis.multi();
    for (const [queue, payloads] of byQueue) {
      multi.sadd(this.keys.queues, queue);
      for (let i = 0; i < payloads.length; i += 10_000) multi.lpush(this.keys.queue(queue), ...payloads.slice(i, i + 10_000));
    }
    if (byQueue.size) await this.confirmed('enqueue', () => multi.exec().then(check));
    for (const [i, job] of unique) jids[i] = (await this.push(job)).jid;
    return jids;
  }

  /** enqueueBulk in the cluster layout: each queue's jobs in its own world, jids in the given order. */
  private async bulkPerShard(jobs: EnqueueJob[]): Promise<string[]> {
    const byQueue = new Map<string, number[]>();
    jobs.forEach((j, i) => {
      const q = j.queue ?? 'default';
      byQueue.set(q, [...(byQueue.get(q) ?? []), i]);
    });
    const jids: string[] = new Array(jobs.length);
    for (const [q, at] of byQueue) {
      const got = await this.shard(q).enqueueBulk(at.map((i) => jobs[i]));
      at.forEach((i, n) => (jids[i] = got[n]));
    }
    return jids;
  }

  async close(): Promise<void> {
    for (const s of this.shards?.values() ?? []) await s.redis.quit().catch(() => s.redis.disconnect());
    if (this.owned && this.conn) await this.conn.quit().catch(() => this.conn?.disconnect());
  }
}

/** A producer's connection; in the cluster layout pinned to the master of `slotTag`'s slot (a queue world's). */
function producerConnection(opts: ClientOptions, slotTag?: string): Redis {
  return connectRedis(opts.redisUrl ?? 'redis://127.0.0.1:6379/0', {
    name: 'verk:client',
    autoPipeline: true,
    maxRetriesPerRequest: 3,
    sentinelPassword: opts.sentinelPassword,
    commandTimeoutMs: opts.redisCommandTimeout,
    slotTag,
  });
}

function check(res: [Error | null, unknown][] | null): void {
  const err = res?.find(([e]) => e)?.[0];
  if (err) throw err;
  if (!res) throw new Error('transaction aborted');
}
