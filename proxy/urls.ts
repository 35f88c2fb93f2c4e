// Origins and paths the proxy builds or accepts in redirects.
import type { IncomingMessage } from 'node:http';
import { hostPort, normaliseHostname } from './host.ts';

/** `scheme://hostname[:port]` for a host name, keeping the port the browser used. */
export function originFor(scheme: string, hostname: string, req: IncomingMessage): string {
  const port = hostPort(req.headers.host);
  return `${scheme}://${hostname}${port ? `:${port}` : ''}`;
}

/** This request's own origin, as a browser would send it in Origin (no port when it is the scheme's default). */
export function requestOrigin(scheme: string, req: IncomingMessage): string | undefined {
  const hostname = normaliseHostname(req.headers.host);
  if (!hostname) return undefined;
  const port = hostPort(req.headers.host);
  const isDefault = port === (scheme === 'https' ? '443' : '80');
  return `${scheme}://${hostname}${port && !isDefault ? `:${port}` : ''}`;
}

/**
 * A WebSocket or a write (not GET/HEAD) to a tool host: only from the tool
 * host's own origin. Browsers send Origin on every WebSocket handshake and every
 * non-GET/HEAD request (cross-origin or not, forms included), so a request
 * without one is not a browser page's: it is let through only with an
 * Authorization header (an API token, which a browser never adds by itself), or
 * when the browser vouches for it (Sec-Fetch-Site: same-origin). A cookie alone
 * and no Origin is refused.
 */
export function mayWriteFrom(scheme: string, req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin === requestOrigin(scheme, req);
  return req.headers.authorization !== undefined || req.headers['sec-fetch-site'] === 'same-origin';
}

/** A same-site check for state-changing requests (CSRF), besides SameSite=Lax cookies. */
export function isSameOrigin(scheme: string, req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin === requestOrigin(scheme, req);
  return req.headers['sec-fetch-site'] === 'same-origin';
}

/** The 403's words for a request mayWriteFrom refused. */
export function crossOriginMessage(req: IncomingMessage): string {
  const origin = req.headers.origin;
  const from =
    origin === undefined
      ? 'carries no Origin header and no API token'
      : `came from another site (Origin ${origin.slice(0, 200)})`;
  return `This request ${from}. A tool accepts WebSockets and changes (anything but GET and HEAD) only from its own pages.`;
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
