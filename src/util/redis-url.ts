// Strict reading of a Redis URL (redis://[user:password@]host[:port][/db]), so a typo never makes
// ioredis fall back to another database: it reads "/abc" as db 0 and "/1/2" as db 1 without a word.
// Also Sentinel URLs: redis+sentinel://[user:password@]host1[:port1],host2[:port2]/master[/db]
// [?sentinelUsername=u&sentinelPassword=p], and Redis Cluster seed lists:
// redis+cluster://[user:password@]host1:port1,host2:port2[/0] (docs/redis-ha.md). Errors name the
// part that is wrong and never repeat the URL (it may hold a password).

export interface SentinelAddress {
  host: string;
  port: number;
}

export interface RedisUrlParts {
  tls: boolean;
  host: string;
  port: number;
  db: number;
  /** Set for redis+sentinel:// URLs: where to ask for the master, and its name. */
  sentinel?: SentinelParts;
  /** Set for redis+cluster:// URLs: the seed nodes to ask for the slot map. */
  cluster?: ClusterParts;
}

export interface ClusterParts {
  /** Any nodes of the cluster; each connection asks them in turn for the master of its slot. */
  seeds: SentinelAddress[];
  /** The data nodes' credentials (the URL's user:password), also used to ask the seeds. */
  username?: string;
  password?: string;
}

export interface SentinelParts {
  sentinels: SentinelAddress[];
  /** The master group name the Sentinels monitor. */
  masterName: string;
  /** The data nodes' credentials (the URL's user:password). */
  username?: string;
  password?: string;
  /** The Sentinels' own credentials (query sentinelUsername / sentinelPassword). */
  sentinelUsername?: string;
  sentinelPassword?: string;
}

const SHAPE = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i;
/** Redis numbers databases with a C int; the server says how many it really has. */
const MAX_DB = 2_147_483_647;
/** Sentinel's own default port. */
const SENTINEL_PORT = 26379;
const SENTINEL_QUERY = new Set(['sentinelUsername', 'sentinelPassword']);
const EXPECTED = 'expected redis://host[:port][/db], rediss://… for TLS, redis+sentinel://host1:26379,host2:26379/mymaster[/db] or redis+cluster://host1:6379,host2:6379';

type Fail = (why: string) => never;

/** Parses a Redis URL or throws an Error naming the wrong part and the expected form. */
export function parseRedisUrl(url: string): RedisUrlParts {
  const fail: Fail = (why) => {
    throw new Error(`${why} (${EXPECTED}, e.g. redis://127.0.0.1:6379/0)`);
  };
  const m = SHAPE.exec(url.trim());
  if (!m) return fail('is not a URL');
  const [, scheme, userinfo, authority, path, query, fragment] = m;
  const s = scheme.toLowerCase();
  if (s !== 'redis' && s !== 'rediss' && s !== 'redis+sentinel' && s !== 'redis+cluster')
    fail(`has scheme ${JSON.stringify(scheme + '://')}: use redis://, rediss:// (TLS), redis+sentinel:// or redis+cluster://`);
  if (fragment) fail('has a "#" fragment: write "#" in the password as %23');
  if (path.includes('@')) fail('has "@" after the host: write "/" in the password as %2F and "@" as %40');
  // A second "@" (one in the password): the host would be read as "rest-of-password@host".
  if (authority.includes('@')) fail('has "@" in the user name or password: write it as %40');
  if (s === 'redis+sentinel') return parseSentinel(userinfo, authority, path, query, fail);
  if (s === 'redis+cluster') return parseCluster(userinfo, authority, path, query, fail);
  const { host, port } = hostPort(authority, 6379, fail);
  let db = 0;
  if (path !== '' && path !== '/') db = dbNumber(path.slice(1), fail, 'the path must be /N, a database number such as /0');
  if (query && new URLSearchParams(query.slice(1)).has('db')) fail('sets db in the query: give the database as the path (/N)');
  try {
    new URL(url.trim());
  } catch {
    fail('is not a URL');
  }
  return { tls: s === 'rediss', host, port, db };
}

function hostPort(authority: string, defaultPort: number, fail: Fail): SentinelAddress {
  const hp = /^(\[[0-9a-f:.]+\]|[^:[\]]*)(?::(.*))?$/i.exec(authority);
  if (!hp || hp[1] === '') fail('names no host');
  const host = hp![1].replace(/^\[|\]$/g, '');
  let port = defaultPort;
  if (hp![2] !== undefined) {
    const p = hp![2];
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) fail(`has port ${JSON.stringify(p)}: use a number from 1 to 65535`);
    port = Number(p);
  }
  return { host, port };
}

function dbNumber(digits: string, fail: Fail, hint: string): number {
  if (!/^\d{1,10}$/.test(digits) || Number(digits) > MAX_DB) fail(`has database ${JSON.stringify(digits)}: ${hint}`);
  return Number(digits);
}

function decode(part: string, what: string, fail: Fail): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return fail(`has a malformed %-escape in the ${what}`);
  }
}

/** redis+sentinel://[user:password@]host1[:port],host2[:port]/master[/db][?sentinelUsername=&sentinelPassword=] */
function parseSentinel(userinfo: string | undefined, authority: string, path: string, query: string | undefined, fail: Fail): RedisUrlParts {
  const sentinels = addressList(authority, SENTINEL_PORT, 'Sentinel', fail);
  const segments = path.split('/').slice(1);
  if (segments.length === 0 || segments[0] === '') fail('names no master: a Sentinel URL ends in /<master name>[/db]');
  if (segments.length > 2) fail('has more path than /<master name>/<db>');
  const masterName = decode(segments[0], 'master name', fail);
  const db = segments.length === 2 && segments[1] !== '' ? dbNumber(segments[1], fail, 'the path must be /<master name>/N') : 0;
  const parts: SentinelParts = { sentinels, masterName, ...credentials(userinfo, fail) };
  if (query) {
    // Names as written, unescaped: the redactor (src/util/redact.ts) must see sentinelPassword.
    for (const pair of query.slice(1).split('&')) {
      const name = pair.split('=')[0];
      if (pair !== '' && !/^[A-Za-z]+$/.test(name)) fail('has a query parameter name with an escape or symbol: write sentinelUsername and sentinelPassword as is');
    }
    const params = new URLSearchParams(query.slice(1));
    for (const k of params.keys()) {
      if (!SENTINEL_QUERY.has(k)) fail(`has the query parameter ${JSON.stringify(k)}: a Sentinel URL takes only sentinelUsername and sentinelPassword`);
    }
    const u = params.get('sentinelUsername');
    const p = params.get('sentinelPassword');
    if (u) parts.sentinelUsername = u;
    if (p !== null) parts.sentinelPassword = p;
  }
  return { tls: false, host: sentinels[0].host, port: sentinels[0].port, db, sentinel: parts };
}

/** host1[:port1],host2[:port2]…: comma-separated addresses, `defaultPort` where none is given. */
function addressList(authority: string, defaultPort: number, what: string, fail: Fail): SentinelAddress[] {
  return authority.split(',').map((a) => {
    if (a === '') fail(`has an empty ${what} address: separate host:port pairs by single commas`);
    return hostPort(a, defaultPort, fail);
  });
}

/** The user info's user name and password, decoded (each only when given). */
function credentials(userinfo: string | undefined, fail: Fail): { username?: string; password?: string } {
  const out: { username?: string; password?: string } = {};
  if (userinfo === undefined || userinfo === '') return out;
  const colon = userinfo.indexOf(':');
  const user = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), 'user name', fail);
  if (user) out.username = user;
  if (colon >= 0) out.password = decode(userinfo.slice(colon + 1), 'password', fail);
  return out;
}

/** redis+cluster://[user:password@]host1:port1,host2:port2[,…][/0]: seed nodes; Redis Cluster has only database 0. */
function parseCluster(userinfo: string | undefined, authority: string, path: string, query: string | undefined, fail: Fail): RedisUrlParts {
  const seeds = addressList(authority, 6379, 'seed', fail);
  if (path !== '' && path !== '/' && path !== '/0') {
    if (/^\/\d{1,10}$/.test(path)) fail(`has database ${JSON.stringify(path.slice(1))}: Redis Cluster has only database 0 (write /0 or nothing)`);
    fail('has a path other than /0: a cluster URL names seed nodes only (Redis Cluster has only database 0)');
  }
  if (query) fail('has a query: a cluster URL takes no query parameters');
  const cluster: ClusterParts = { seeds, ...credentials(userinfo, fail) };
  return { tls: false, host: seeds[0].host, port: seeds[0].port, db: 0, cluster };
}
