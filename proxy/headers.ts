// Header rewriting, both ways (RFC 9110 §7.6.1). Hop-by-hop headers (Connection
// and every header it names, Keep-Alive, Proxy-Connection, TE, Trailer,
// Transfer-Encoding, Upgrade) never cross the proxy. Towards a tool: Host is kept
// as the browser sent it (Jupyter compares Origin with it), X-Forwarded-* are set
// (trusting only `trustedHops` proxies in front), and berth's credentials (all of
// its cookies, Authorization) are removed, as are headers that only berth or the
// load balancer may set (`x-berth-*`, `x-amzn-oidc-*`): a tool must never take a
// client's copy of them for berth's word. Towards the browser: a tool's
// Set-Cookie values go through the upstream's filter (proxy/cookies.ts). A client's
// `x-berth-tool-secret` is dropped even towards berth's API; the proxy adds the
// launch's own as the last step (withToolSecret).
import type { IncomingHttpHeaders } from 'node:http';
import { TOOL_SECRET_HEADER } from '../store/index.ts';
import { isBerthCookieName, mayHoldBerthCookie } from './cookies.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * `Connection: keep-alive` or `close`, what nearly every client and server sends:
 * neither names a header that is not hop-by-hop already, so no token set is built.
 */
function namesNoOtherHeader(value: string): boolean {
  if (value.length === 10) return value.toLowerCase() === 'keep-alive';
  if (value.length === 5) return value.toLowerCase() === 'close';
  return false;
}

export interface ForwardContext {
  /** Scheme to report when no trusted hop says otherwise. */
  scheme: 'http' | 'https';
  trustedHops: number;
  /**
   * Tool hosts: remove Authorization, berth's cookies and the `x-berth-*` and
   * `x-amzn-oidc-*` headers; berth's own API gets them all (it checks them itself).
   */
  stripCredentials: boolean;
}

function connectionTokens(value: string | undefined, into: Set<string>): void {
  if (!value) return;
  for (const t of value.split(',')) {
    const name = t.trim().toLowerCase();
    if (name) into.add(name);
  }
}

/** The Cookie header without berth's cookies, or undefined when nothing is left. */
function stripCookies(cookie: string): string | undefined {
  if (!mayHoldBerthCookie(cookie)) return cookie;
  const kept = cookie
    .split(';')
    .map((c) => c.trim())
    .filter((c) => {
      if (c === '') return false;
      const eq = c.indexOf('=');
      const name = (eq < 0 ? c : c.slice(0, eq)).trim();
      return !isBerthCookieName(name);
    });
  return kept.length ? kept.join('; ') : undefined;
}

/**
 * Request headers for the upstream as a flat [name, value, ...] list, from the
 * client's raw headers (order and repeats kept).
 */
export function upstreamRequestHeaders(
  raw: string[],
  ctx: ForwardContext,
  remoteAddress: string,
): string[] {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    // Length first: most names are not 10 long, so no lowercase copy is made for them.
    if (n.length === 10 && n.toLowerCase() === 'connection') {
      const v = raw[i + 1];
      if (!v || namesNoOtherHeader(v)) continue;
      named ??= new Set();
      connectionTokens(v, named);
    }
  }
  const out: string[] = [];
  let xff: string[] | undefined;
  let xfProto: string | undefined;
  let xfHost: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    switch (name) {
      case 'host':
        host = value;
        out.push('host', value);
        continue;
      case 'x-forwarded-for':
        if (ctx.trustedHops > 0) {
          xff ??= [];
          xff.push(value);
        }
        continue;
      case 'x-forwarded-proto':
        if (ctx.trustedHops > 0) xfProto = value;
        continue;
      case 'x-forwarded-host':
        if (ctx.trustedHops > 0) xfHost = value;
        continue;
      case 'expect':
        // Node's server already answered 100-continue; undici refuses the header.
        continue;
      case TOOL_SECRET_HEADER:
        // Only the proxy speaks for itself to a gate.
        continue;
      case 'forwarded':
        if (ctx.trustedHops > 0) out.push(name, value);
        continue;
      case 'authorization':
        if (!ctx.stripCredentials) out.push(name, value);
        continue;
      case 'cookie': {
        const kept = ctx.stripCredentials ? stripCookies(value) : value;
        if (kept !== undefined) out.push(name, kept);
        continue;
      }
      default:
        if (ctx.stripCredentials && isReservedHeader(name)) continue;
        out.push(name, value);
    }
  }
  let chain = remoteAddress;
  if (xff) {
    const hops = xff
      .join(',')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const trusted = hops.slice(-ctx.trustedHops);
    if (trusted.length) chain = `${trusted.join(', ')}, ${remoteAddress}`;
  }
  out.push('x-forwarded-for', chain);
  out.push('x-forwarded-proto', lastValue(xfProto) ?? ctx.scheme);
  const fwdHost = lastValue(xfHost) ?? host;
  if (fwdHost) out.push('x-forwarded-host', fwdHost);
  return out;
}

/** Headers only berth (`x-berth-*`) or the load balancer (`x-amzn-oidc-*`) may set. */
function isReservedHeader(lowerName: string): boolean {
  return (
    lowerName.charCodeAt(0) === 120 /* x */ &&
    (lowerName.startsWith('x-berth-') || lowerName.startsWith('x-amzn-oidc-'))
  );
}

/**
 * The header list with the upstream's tool secret appended, when it has one: the
 * one step that presents the secret, after every header the client sent was
 * filtered. The list is the request's own (built per request), so it is extended
 * in place. The secret goes only upstream; nothing sends it back to a client.
 */
export function withToolSecret(headers: string[], upstream: { toolSecret?: string | undefined }) {
  if (upstream.toolSecret !== undefined) headers.push(TOOL_SECRET_HEADER, upstream.toolSecret);
  return headers;
}

function lastValue(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const parts = v.split(',');
  return parts[parts.length - 1]!.trim() || undefined;
}

/**
 * Response headers for the client as a flat list, hop-by-hop headers removed;
 * Set-Cookie values through `setCookieFilter` when one is given (tools' answers).
 */
export function clientResponseHeaders(
  headers: IncomingHttpHeaders,
  setCookieFilter?: (values: string[]) => string[],
): string[] {
  let named: Set<string> | undefined;
  const conn = headers.connection;
  if (conn && (typeof conn !== 'string' || !namesNoOtherHeader(conn))) {
    named = new Set();
    connectionTokens(Array.isArray(conn) ? conn.join(',') : conn, named);
  }
  const out: string[] = [];
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    let v = headers[name];
    if (v === undefined) continue;
    if (setCookieFilter && name === 'set-cookie') v = setCookieFilter(Array.isArray(v) ? v : [v]);
    if (Array.isArray(v)) for (const one of v) out.push(name, one);
    else out.push(name, v);
  }
  return out;
}
