// Which error replies are a failover's or a slot migration's (src/redis/failover-stats.ts), and
// which of them make a connection find its master again.
import { describe, expect, it } from 'vitest';
import { failoverReply, reconnectsOn } from '../../src/redis/failover-stats.js';

const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

describe('failover and cluster replies', () => {
  it.each([
    ["READONLY You can't write against a read only replica.", 'READONLY', true],
    ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.', 'MASTERDOWN', true],
    ['UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)', 'UNBLOCKED', true],
    ['LOADING Redis is loading the dataset in memory', 'LOADING', true],
    ['MOVED 3999 127.0.0.1:6381', 'MOVED', true],
    ['CLUSTERDOWN The cluster is down', 'CLUSTERDOWN', true],
    ['ASK 3999 127.0.0.1:6381', 'ASK', false],
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'TRYAGAIN', false],
  ])('%s is %s (reconnect: %s)', (message, kind, reconnects) => {
    expect(failoverReply(reply(message))).toBe(kind);
    expect(reconnectsOn(failoverReply(reply(message))!)).toBe(reconnects);
  });

  it.each(['ERR unknown command', 'WRONGTYPE Operation against a key holding the wrong kind of value', 'MOVEDX 1 h:1', 'ASKING', 'NOSCRIPT No matching script'])(
    '%s is none of them',
    (message) => {
      expect(failoverReply(reply(message))).toBeUndefined();
    },
  );
});
