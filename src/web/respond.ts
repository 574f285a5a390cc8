// The dashboard's plain answers: a page, a redirect (303, so a form POST is followed by a GET), a
// line of text.
import type { ServerResponse } from 'node:http';
import type { Html } from './html.js';

export function sendPage(res: ServerResponse, status: number, body: Html): void {
  const buf = Buffer.from(body.text, 'utf8');
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': buf.length });
  res.end(buf);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { Location: location });
  res.end();
}

export function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${body}\n`);
}
