// Origins and paths the proxy builds or accepts in redirects.
import type { IncomingMessage } from 'node:http';
import { hostPort, normaliseHostname } from './host.ts';

/** `scheme://hostname[:port]` for a host name, keeping the port the browser used. */
export function originFor(scheme: string, hostname: string, req: IncomingMessage): string {
  const port = hostPort(req.headers.host);
  return `${scheme}://${hostname}${port ? `:${port}` : ''}`;
}

/** This request's own origin, as a browser would send it in Origin. */
export function requestOrigin(scheme: string, req: IncomingMessage): string | undefined {
  const hostname = normaliseHostname(req.headers.host);
  return hostname ? originFor(scheme, hostname, req) : undefined;
}

/** A same-site check for state-changing requests (CSRF), besides SameSite=Lax cookies. */
export function isSameOrigin(scheme: string, req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin === requestOrigin(scheme, req);
  return req.headers['sec-fetch-site'] === 'same-origin';
}

/**
 * A local path to redirect to: one leading `/` (not `//` or `/\`, which browsers
 * read as another host), no control characters. Anything else becomes `/`.
 */
export function safePath(p: string | null | undefined): string {
  if (!p || p.length > 4096 || p[0] !== '/' || p[1] === '/' || p[1] === '\\') return '/';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(p)) return '/';
  return p;
}
