// Reading a request's target: its origin-form path (an absolute-form target only
// for the Host it names), the path without its query, and whether a browser asks.
import type { IncomingMessage } from 'node:http';
import { normaliseHostname } from './host.ts';

/** The origin-form path of the request; undefined when an absolute-form target names another host than Host. */
export function requestPath(req: IncomingMessage): string | undefined {
  const url = req.url ?? '/';
  if (url[0] === '/') return url;
  if (url === '*') return undefined;
  try {
    const u = new URL(url);
    if (normaliseHostname(u.host) !== normaliseHostname(req.headers.host)) return undefined;
    return `${u.pathname}${u.search}`;
  } catch {
    return undefined;
  }
}

/** The path without its query. */
export function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

/** A GET or HEAD from a browser (it accepts HTML): the one that may get a page instead of a status. */
export function wantsHtml(req: IncomingMessage): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    (req.headers.accept ?? '').includes('text/html')
  );
}
