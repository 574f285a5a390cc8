// Passwords in a Redis URL never reach a log line: every URL the parser accepts is logged through
// redactUrl ("configuration loaded", "Redis unreachable") and every log line through redactText,
// so for each accepted URL with a secret, both must hide the whole secret. A URL whose secret the
// redactor cannot see must be refused by the parser instead (with a message that does not echo it).
import { describe, expect, it } from 'vitest';
import { redactText, redactUrl } from '../../src/util/redact.js';
import { parseRedisUrl } from '../../src/util/redis-url.js';

const cases: { url: string; secret: string }[] = [
  // URLSearchParams decodes the name: %50 is "P", so the parser read sentinelPassword, the redactor did not.
  { url: 'redis+sentinel://h1:26379,h2:26379/mymaster?sentinel%50assword=S3cretA', secret: 'S3cretA' },
  { url: 'redis+sentinel://h1/mymaster?sentinelPass%77ord=S3cretB', secret: 'S3cretB' },
  // An unescaped "@" in the password: the parser took "ss@host" for the host, the redactor stopped at the first "@".
  { url: 'redis://:pa@S3cretC@127.0.0.1:6379/0', secret: 'pa@S3cretC' },
  { url: 'redis+sentinel://u:pa@S3cretD@h1:26379/mymaster', secret: 'pa@S3cretD' },
  // A cluster URL: a seed list after the password, with and without an unescaped "@" in it.
  { url: 'redis+cluster://u:S3cretF@h1:7000,h2:7001', secret: 'S3cretF' },
  { url: 'redis+cluster://:pa@S3cretG@h1:7000,h2:7001/0', secret: 'pa@S3cretG' },
  // Leading white space (the parser trims it).
  { url: '  redis://u:S3cretE@127.0.0.1:6379/0', secret: 'S3cretE' },
];

describe('a secret in an accepted Redis URL never survives redaction', () => {
  for (const { url, secret } of cases) {
    it(url, () => {
      let accepted = true;
      try {
        parseRedisUrl(url);
      } catch (err) {
        accepted = false;
        expect((err as Error).message).not.toContain(secret.slice(-6));
      }
      if (!accepted) return;
      for (const shown of [redactUrl(url), redactText(`redis: ${url}`)]) {
        expect(shown).not.toContain(secret);
        expect(shown).not.toContain(secret.slice(-6));
      }
    });
  }
});
