// Reads a POST body: application/x-www-form-urlencoded only, at most MAX_BODY bytes (a bulk
// action names up to 1000 entries), with a deadline so a slow client cannot hold a request open.
import type { IncomingMessage } from 'node:http';

export const MAX_BODY = 256 * 1024;
const BODY_TIMEOUT_MS = 10_000;

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new BodyError(415, 'expected a form (application/x-www-form-urlencoded)');
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BodyError(408, 'request body took too long')), BODY_TIMEOUT_MS);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        clearTimeout(timer);
        reject(new BodyError(413, `request body over ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
