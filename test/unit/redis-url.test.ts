// Sentinel URLs (redis+sentinel://) and cluster URLs (redis+cluster://), their parts as
// connection.ts uses them, and redaction of every password they can carry (user info and
// ?sentinelPassword=).
import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/util/redis-url.js';
import { redactText, redactUrl } from '../../src/util/redact.js';
import { crossCheck } from '../../src/config/cross-check.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { Config } from '../../src/config/schema.js';

describe('redis+sentinel:// URLs', () => {
  it('names the Sentinels, the master, the db and both sets of credentials', () => {
    const p = parseRedisUrl('redis+sentinel://app:p%40ss@10.0.0.1:26379,[::1]:26380,sentinel-c/my%20master/3?sentinelUsername=mon&sentinelPassword=s%26cret');
    expect(p.db).toBe(3);
    expect(p.sentinel).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
        { host: 'sentinel-c', port: 26379 },
      ],
      masterName: 'my master',
      username: 'app',
      password: 'p@ss',
      sentinelUsername: 'mon',
      sentinelPassword: 's&cret',
    });
  });

  it('a password without a user, no db (0), no Sentinel credentials', () => {
    const p = parseRedisUrl('redis+sentinel://:pw@h1/m');
    expect(p.db).toBe(0);
    expect(p.sentinel).toEqual({ sentinels: [{ host: 'h1', port: 26379 }], masterName: 'm', password: 'pw' });
  });

  it('plain URLs have no sentinel part', () => {
    expect(parseRedisUrl('redis://h:1/2').sentinel).toBeUndefined();
  });

  it.each([
    ['redis+sentinel://h1,h2/m/1/2', /more path than/],
    ['redis+sentinel://h1:99999/m', /port "99999"/],
    ['redis+sentinel://h1/m?sentinelPassword=secret&x=1', /query parameter "x"/],
    ['redis+sentinel://:%zz@h1/m', /malformed %-escape in the password/],
  ])('refuses %s without repeating a password', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message);
    try {
      parseRedisUrl(url);
    } catch (err) {
      expect((err as Error).message).not.toMatch(/secret|%zz/);
    }
  });
});

describe('redaction of Sentinel URLs', () => {
  const url = 'redis+sentinel://app:TopS3cret@h1:26379,h2:26379/m/0?sentinelUsername=mon&sentinelPassword=Sent1nelPw';
  it('hides the user password and the Sentinel password, keeps the rest', () => {
    expect(redactUrl(url)).toBe('redis+sentinel://app:***@h1:26379,h2:26379/m/0?sentinelUsername=mon&sentinelPassword=***');
    const text = redactText(`connect failed (${url}) and again redis://:x@h/0?password=abc`);
    expect(text).not.toMatch(/TopS3cret|Sent1nelPw|abc\b/);
    expect(text).toContain('sentinelPassword=***');
  });
});

describe('redis+cluster:// URLs', () => {
  it('names the seeds and the credentials; host and port are the first seed, db 0', () => {
    const p = parseRedisUrl('redis+cluster://app:p%40ss@10.0.0.1:7000,[::1]:7001,node-c');
    expect(p).toEqual({
      tls: false,
      host: '10.0.0.1',
      port: 7000,
      db: 0,
      cluster: {
        seeds: [
          { host: '10.0.0.1', port: 7000 },
          { host: '::1', port: 7001 },
          { host: 'node-c', port: 6379 },
        ],
        username: 'app',
        password: 'p@ss',
      },
    });
  });

  it('takes /0 or no path, a password without a user, and no credentials', () => {
    expect(parseRedisUrl('redis+cluster://:pw@h1:7000/0').cluster).toEqual({ seeds: [{ host: 'h1', port: 7000 }], password: 'pw' });
    expect(parseRedisUrl('redis+cluster://h1:7000,h2:7001/').cluster).toEqual({
      seeds: [
        { host: 'h1', port: 7000 },
        { host: 'h2', port: 7001 },
      ],
    });
    expect(parseRedisUrl('REDIS+CLUSTER://h1').cluster?.seeds).toEqual([{ host: 'h1', port: 6379 }]);
  });

  it('plain and Sentinel URLs have no cluster part', () => {
    expect(parseRedisUrl('redis://h:1/2').cluster).toBeUndefined();
    expect(parseRedisUrl('redis+sentinel://h1/m').cluster).toBeUndefined();
  });

  it.each([
    ['redis+cluster://u:secret@h1:7000/1', /database "1": Redis Cluster has only database 0/],
    ['redis+cluster://u:secret@h1:7000/0/1', /path other than \/0/],
    ['redis+cluster://u:secret@h1:7000/db', /path other than \/0/],
    ['redis+cluster://u:secret@h1:7000?db=0', /takes no query parameters/],
    ['redis+cluster://u:secret@h1:7000,,h2:7001', /empty seed address/],
    ['redis+cluster://u:secret@h1:70000', /port "70000"/],
    ['redis+cluster://u:secret@:7000', /names no host/],
    ['redis+cluster://:%zz@h1', /malformed %-escape in the password/],
    ['redis+clusters://u:secret@h1', /use redis:\/\/, rediss:\/\/ \(TLS\), redis\+sentinel:\/\/ or redis\+cluster:\/\//],
  ])('refuses %s without repeating a password', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message);
    try {
      parseRedisUrl(url);
    } catch (err) {
      expect((err as Error).message).not.toMatch(/secret|%zz/);
    }
  });
});

describe('redaction of cluster URLs', () => {
  it('hides the password, keeps the seeds', () => {
    const url = 'redis+cluster://app:TopS3cret@h1:7000,h2:7001,h3:7002/0';
    expect(redactUrl(url)).toBe('redis+cluster://app:***@h1:7000,h2:7001,h3:7002/0');
    expect(redactUrl('redis+cluster://:TopS3cret@h1:7000,h2:7001')).toBe('redis+cluster://:***@h1:7000,h2:7001');
    const text = redactText(`no seed answered (redis+cluster://app:TopS3cret@h1:7000,h2:7001) twice`);
    expect(text).not.toContain('TopS3cret');
    expect(text).toContain('redis+cluster://app:***@h1:7000,h2:7001');
  });
});

describe('durability cross-check', () => {
  const base = { ...DEFAULTS, queues: [], processes: 1 } as unknown as Config;
  it('replicated needs a WAIT of at most half the command timeout; default does not care', () => {
    expect(() => crossCheck({ ...base, durability: 'default', durabilityTimeout: 5000, redisCommandTimeout: 1000 })).not.toThrow();
    expect(() => crossCheck({ ...base, durability: 'replicated', durabilityTimeout: 2500, redisCommandTimeout: 5000 })).not.toThrow();
    expect(() => crossCheck({ ...base, durability: 'replicated', durabilityTimeout: 2501, redisCommandTimeout: 5000 })).toThrow(/at most half of `redisCommandTimeout`/);
  });
});
