// The two static files of the dashboard, public/verk-web.js and public/verk-web.css, read once
// from the package (beside dist/) and served with a long cache and their own content type.
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';

const DIR = new URL('../../public/', import.meta.url);

const FILES: Record<string, string> = {
  'verk-web.js': 'text/javascript; charset=utf-8',
  'verk-web.css': 'text/css; charset=utf-8',
};

const cache = new Map<string, Buffer>();

/** Serves an asset by name; false when there is no such asset. */
export function serveAsset(name: string, res: ServerResponse): boolean {
  if (!Object.hasOwn(FILES, name)) return false; // not `FILES[name]`: "constructor" is on every object
  const type = FILES[name];
  let body = cache.get(name);
  if (!body) {
    body = fs.readFileSync(new URL(name, DIR));
    cache.set(name, body);
  }
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'public, max-age=300' });
  res.end(body);
  return true;
}
