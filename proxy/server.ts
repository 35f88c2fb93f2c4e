// The request path. Everything is decided from the Host header (normalised) and
// in-memory state: route lookup is a Map get, credentials are verified through a
// short cache. berth's own host serves /_berth/* (sign-in, handoff), /healthz,
// /readyz, /metrics, and forwards the rest to the API server; tool hosts serve
// /_berth/callback, /_berth/status, /_berth/launch, /_berth/assets/* and forward
// the rest to the tool. On tool hosts, WebSockets and writes are refused unless
// they come from the tool host's own origin (urls.ts mayWriteFrom), first of all;
// sign-in attempts and status polls are rate-limited (rate-limits.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestPrincipal } from './auth.ts';
import { mayOpen } from './authorize.ts';
import { toolDomainOf } from './config.ts';
import type { ProxyContext } from './context.ts';
import { classifyError, type ForwardHooks, forward, type UpstreamErrorKind } from './forward.ts';
import {
  handleCallback,
  handleHandoff,
  handleSignIn,
  handleSignOut,
  redirectToHandoff,
} from './handoff.ts';
import { type ForwardContext, upstreamRequestHeaders } from './headers.ts';
import { type ParsedHost, parseHost } from './host.ts';
import { isSameSiteNavigation, launchIntentCookie } from './launch-gate.ts';
import { serveAsset } from './pages/assets.ts';
import { sendError } from './pages/errors.ts';
import { pathOnly, requestPath, wantsHtml } from './request-target.ts';
import { isIgnoredPath } from './route-table.ts';
import { serveToolPage } from './tool-pages.ts';
import type { Upstream } from './upstream.ts';
import { crossOriginMessage, mayWriteFrom } from './urls.ts';
import { rejectUpgrade } from './websocket.ts';

type ToolHost = Extract<ParsedHost, { kind: 'tool' }>;

/**
 * A routing + authorization decision already made for one (Host header,
 * credential): the request path for a known user of a running tool is then a
 * few Map lookups and no promise. It holds while the route table and the
 * authenticator's cache are unchanged and until the credential's cached answer
 * expires, so it never outlives what it was derived from.
 */
interface Decision {
  upstream: Upstream;
  /** The tool's spec.idle.ignoredPaths (a definition change voids the decision). */
  ignoredPaths: readonly string[];
  namespace: string;
  instance: string;
  hostname: string;
  until: number;
  routesVersion: number;
  authGeneration: number;
}

const MAX_DECISIONS = 50_000;

export class ProxyServer {
  readonly #ctx: ProxyContext;
  readonly #toolFwd: ForwardContext;
  readonly #apiFwd: ForwardContext;
  /** Host header -> credential (Authorization, else Cookie header) -> decision. */
  readonly #decisions = new Map<string, Map<string, Decision>>();
  #decisionCount = 0;
  /** What forwarded exchanges report to (one object, no per-request closures). */
  readonly #sink: ForwardHooks;
  /** Same, for exchanges whose response the slow path counts on 'finish'. */
  readonly #uncountedSink: ForwardHooks;
  /** Parsed Host headers: a handful of distinct values, looked up on every request. */
  readonly #hosts = new Map<string, ParsedHost>();

  constructor(ctx: ProxyContext) {
    this.#ctx = ctx;
    const base = {
      scheme: ctx.config.publicScheme,
      trustedHops: ctx.config.trustedHops,
    };
    this.#toolFwd = { ...base, stripCredentials: true };
    // berth's own API gets its credentials: it authenticates them itself.
    this.#apiFwd = { ...base, stripCredentials: false };
    const upstreamErrors = new Map(
      (['refused', 'reset', 'timeout', 'aborted', 'other'] as const).map((k) => [
        k,
        ctx.metrics.upstreamErrors.labels(k),
      ]),
    );
    const onUpstreamError = (kind: UpstreamErrorKind) => upstreamErrors.get(kind)?.inc();
    const metrics = ctx.metrics;
    this.#sink = {
      onResponse: (status, startedAt) =>
        metrics.countResponse(status, (performance.now() - startedAt) / 1000),
      onUpstreamError,
    };
    this.#uncountedSink = { onResponse: () => {}, onUpstreamError };
  }

  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    if (this.#tryFastPath(req, res, started)) return;
    res.once('finish', () =>
      this.#ctx.metrics.countResponse(res.statusCode, (performance.now() - started) / 1000),
    );
    this.#handle(req, res).catch((err: unknown) => {
      this.#ctx.log.error({ err: String(err), method: req.method }, 'request failed');
      if (!res.headersSent) sendError(res, 502, 'berth could not handle this request.');
      else res.destroy();
    });
  };

  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => {});
    this.#handleUpgrade(req, socket, head).catch((err: unknown) => {
      this.#ctx.log.error({ err: String(err) }, 'upgrade failed');
      rejectUpgrade(socket, 502, 'Bad Gateway');
    });
  };

  #parseHost(header: string | undefined): ParsedHost {
    const key = header ?? '';
    let parsed = this.#hosts.get(key);
    if (!parsed) {
      const c = this.#ctx.config;
      parsed = parseHost(header, c.baseDomain, c.sharedNamespace, toolDomainOf(c));
      if (this.#hosts.size >= 10_000) this.#hosts.clear();
      this.#hosts.set(key, parsed);
    }
    return parsed;
  }

  /**
   * A request to a tool whose (Host, credential) was decided moments ago: forward
   * it with no promise, no database and no parsing beyond what Node did. Anything
   * else (berth's paths, unknown credentials, a changed route table) goes the slow way.
   */
  #tryFastPath(req: IncomingMessage, res: ServerResponse, started: number): boolean {
    const url = req.url;
    if (url === undefined || url.charCodeAt(0) !== 47 /* / */ || url.startsWith('/_berth/'))
      return false;
    const headers = req.headers;
    const method = req.method;
    // Writes go the slow way when their Origin is not this tool host's (403 there).
    if (method !== 'GET' && method !== 'HEAD' && !mayWriteFrom(this.#ctx.config.publicScheme, req))
      return false;
    const byCredential = this.#decisions.get(headers.host ?? '');
    if (!byCredential) return false;
    const d = byCredential.get(headers.authorization ?? headers.cookie ?? '');
    const now = Date.now();
    if (
      !d ||
      d.routesVersion !== this.#ctx.routes.version ||
      d.authGeneration !== this.#ctx.auth.generation ||
      d.upstream.closed ||
      d.until <= now
    )
      return false;
    if (d.ignoredPaths.length === 0 || !isIgnoredPath(url, d.ignoredPaths))
      this.#ctx.activity.touch(d.namespace, d.instance, d.hostname, now);
    const list = upstreamRequestHeaders(
      req.rawHeaders,
      this.#toolFwd,
      req.socket.remoteAddress ?? '',
    );
    forward(req, res, d.upstream, url, list, this.#sink, started);
    return true;
  }

  /** Remembers that this request's (Host, credential) may go straight to `upstream`. */
  #remember(
    req: IncomingMessage,
    host: ToolHost,
    principal: RequestPrincipal,
    upstream: Upstream,
    ignoredPaths: readonly string[],
  ): void {
    // Decisions end where the credential's background re-check begins (see auth.ts).
    const until = principal.recheckFrom;
    if (until === undefined || until <= Date.now()) return;
    const h = req.headers;
    // Key by what authenticate() looked at, so the same headers get the same answer.
    let credential: string | undefined;
    if (principal.via === 'token') credential = h.authorization;
    else if (h.authorization === undefined) credential = h.cookie;
    if (credential === undefined) return;
    if (this.#decisionCount >= MAX_DECISIONS) {
      this.#decisions.clear();
      this.#decisionCount = 0;
    }
    const hostHeader = h.host ?? '';
    let byCredential = this.#decisions.get(hostHeader);
    if (!byCredential) {
      byCredential = new Map();
      this.#decisions.set(hostHeader, byCredential);
    }
    if (!byCredential.has(credential)) this.#decisionCount++;
    byCredential.set(credential, {
      upstream,
      ignoredPaths,
      namespace: host.namespace,
      instance: host.instance,
      hostname: host.hostname,
      until,
      routesVersion: this.#ctx.routes.version,
      authGeneration: this.#ctx.auth.generation,
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = requestPath(req);
    if (path === undefined) {
      sendError(res, 400, 'The request target does not match the Host header.');
      return;
    }
    const host = this.#parseHost(req.headers.host);
    if (host.kind === 'berth') return this.#berthHost(req, res, path);
    if (host.kind === 'tool') return this.#toolHost(req, res, host, path);
    sendError(res, 404, 'No tool is served at this address.');
  }

  // ---- berth's own host ----

  async #berthHost(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const ctx = this.#ctx;
    const p = pathOnly(path);
    if (p === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('ok\n');
      return;
    }
    if (p === '/readyz') {
      const ok = ctx.routes.loaded;
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain', 'cache-control': 'no-store' })
        .end(ok ? 'ready\n' : 'route table not loaded\n');
      return;
    }
    if (p === '/metrics') {
      ctx.metrics.websockets.set(ctx.relays.size);
      ctx.metrics.routes.set(ctx.routes.routableCount());
      const body = await ctx.metricsText();
      res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType }).end(body);
      return;
    }
    if (p.startsWith('/_berth/')) {
      const url = new URL(path, 'http://berth.invalid');
      if (p.startsWith('/_berth/assets/') && serveAsset(p, res)) return;
      if (p === '/_berth/handoff') return handleHandoff(ctx, req, res, url);
      if (p === '/_berth/sign-in') {
        if (req.method === 'POST' && (await ctx.limits.signInRefused(req, res))) return;
        return handleSignIn(ctx, req, res, url);
      }
      if (p === '/_berth/sign-out') return handleSignOut(ctx, req, res);
      sendError(res, 404, 'No such page.');
      return;
    }
    forward(
      req,
      res,
      ctx.api,
      path,
      upstreamRequestHeaders(req.rawHeaders, this.#apiFwd, req.socket.remoteAddress ?? ''),
      this.#uncountedSink,
    );
  }

  // ---- tool hosts ----

  async #toolHost(
    req: IncomingMessage,
    res: ServerResponse,
    host: ToolHost,
    path: string,
  ): Promise<void> {
    const ctx = this.#ctx;
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD' && !mayWriteFrom(ctx.config.publicScheme, req)) {
      ctx.metrics.refused.labels('origin').inc();
      sendError(res, 403, crossOriginMessage(req));
      return;
    }
    const berthPath = path.startsWith('/_berth/') ? pathOnly(path) : undefined;
    if (berthPath !== undefined) {
      if (berthPath.startsWith('/_berth/assets/') && serveAsset(berthPath, res)) return;
      if (berthPath === '/_berth/callback') {
        if (await ctx.limits.signInRefused(req, res)) return;
        return handleCallback(ctx, req, res, host.hostname, new URL(path, 'http://berth.invalid'));
      }
    }
    const principal = await ctx.auth.authenticate(req, host.hostname);
    if (!principal) {
      if (wantsHtml(req)) {
        // A same-site visit to a tool that is not running, which must sign in first,
        // may still launch it when the sign-in brings it back.
        const intent =
          isSameSiteNavigation(req) && !ctx.routes.get(host.hostname)?.upstream
            ? [launchIntentCookie(ctx.config.publicScheme, true)]
            : [];
        redirectToHandoff(ctx, req, res, host.hostname, path, intent);
      } else {
        sendError(
          res,
          401,
          'Sign in first, or send an API token as "Authorization: Bearer <token>".',
          '',
          {
            'www-authenticate': 'Bearer realm="berth"',
          },
        );
      }
      return;
    }
    const route = ctx.routes.get(host.hostname);
    const toolRef = route?.instance.spec.toolRef ?? host.instance;
    const def = ctx.routes.definitions.get(toolRef);
    if (!mayOpen(principal, host.namespace, def, ctx.config.sharedNamespace)) {
      sendError(res, 403, 'This tool belongs to someone else, or you have no access to it.');
      return;
    }
    const upstream = route?.upstream;
    if (berthPath === undefined && upstream && !upstream.closed) {
      // A tool's own polling (spec.idle.ignoredPaths) is not a person's use.
      const ignoredPaths = ctx.routes.ignoredPaths(toolRef);
      if (!isIgnoredPath(path, ignoredPaths))
        ctx.activity.touch(host.namespace, host.instance, host.hostname);
      const headers = upstreamRequestHeaders(
        req.rawHeaders,
        this.#toolFwd,
        req.socket.remoteAddress ?? '',
      );
      forward(req, res, upstream, path, headers, this.#uncountedSink);
      // Only origin-form targets: the fast path forwards req.url as it is.
      if (req.url === path) this.#remember(req, host, principal, upstream, ignoredPaths);
      return;
    }
    return serveToolPage(ctx, req, res, host, route, def, principal, berthPath);
  }

  // ---- WebSocket upgrades ----

  async #handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const ctx = this.#ctx;
    const path = requestPath(req);
    if (path === undefined) return rejectUpgrade(socket, 400, 'Bad Request');
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket')
      return rejectUpgrade(socket, 400, 'Bad Request');
    const host = this.#parseHost(req.headers.host);
    const remoteAddress = req.socket.remoteAddress ?? '';
    if (host.kind === 'berth') {
      const headers = upstreamRequestHeaders(req.rawHeaders, this.#apiFwd, remoteAddress);
      return ctx.relays.relay(req, socket, head, ctx.api, path, headers, () => {});
    }
    if (host.kind !== 'tool') return rejectUpgrade(socket, 404, 'Not Found');
    if (!mayWriteFrom(ctx.config.publicScheme, req)) {
      ctx.metrics.refused.labels('origin').inc();
      return rejectUpgrade(socket, 403, 'Forbidden', '', crossOriginMessage(req));
    }
    const principal = await ctx.auth.authenticate(req, host.hostname);
    if (!principal) return rejectUpgrade(socket, 401, 'Unauthorized');
    const route = ctx.routes.get(host.hostname);
    const def = ctx.routes.definitions.get(route?.instance.spec.toolRef ?? host.instance);
    if (!mayOpen(principal, host.namespace, def, ctx.config.sharedNamespace))
      return rejectUpgrade(socket, 403, 'Forbidden');
    const upstream = route?.upstream;
    if (!upstream || upstream.closed) return rejectUpgrade(socket, 503, 'Service Unavailable');
    const headers = upstreamRequestHeaders(req.rawHeaders, this.#toolFwd, remoteAddress);
    const key = host.hostname;
    // Kept by credential, so that its revocation or a loss of access closes it (connection-guard.ts).
    const credential = principal.tokenId
      ? `t:${principal.tokenId}`
      : principal.sessionId
        ? `s:${principal.sessionId}`
        : undefined;
    return ctx.relays.relay(
      req,
      socket,
      head,
      upstream,
      path,
      headers,
      () => ctx.activity.touch(host.namespace, host.instance, key),
      credential
        ? { credential, namespace: host.namespace, instance: host.instance, hostname: key }
        : undefined,
    );
  }
}

export { classifyError };
