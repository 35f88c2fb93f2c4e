// proxy/: the undici reverse proxy. Imports crds/, store/ and settings/ only (through their index.ts).
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KINDS, STRICT_TRANSPORT_SECURITY } from '../crds/index.ts';
import {
  CREDENTIALS_CHANNEL,
  Identity,
  Listener,
  type Pool,
  ResourceStore,
  Sessions,
} from '../store/index.ts';
import { ActivityRecorder } from './activity.ts';
import { Authenticator, sessionCookieName } from './auth.ts';
import { clusterMetricsText } from './cluster-metrics.ts';
import { loadProxyConfig, type ProxyConfig, toolDomainOf } from './config.ts';
import { ConnectionGuard } from './connection-guard.ts';
import type { ProxyContext } from './context.ts';
import { toolSetCookieFilter } from './cookies.ts';
import { type ProxyLogger, silentLogger } from './log.ts';
import { ProxyMetrics } from './metrics.ts';
import { ProxyRateLimits } from './rate-limits.ts';
import { RouteTable } from './route-table.ts';
import { ProxyServer } from './server.ts';
import { Upstream } from './upstream.ts';
import { WebSocketRelays } from './websocket.ts';

export { ConfigError } from '../settings/index.ts';
export { answerMetricsRequests } from './cluster-metrics.ts';
export {
  loadProxyConfig,
  type ProxyConfig,
  proxyConfigSchema,
  toolDomainOf,
  workerCount,
} from './config.ts';
export { normaliseHostname, parseHost, toolHostname } from './host.ts';
// The Launch and keep-running forms' CSRF token: tests post those forms as a page would.
export { launchCsrfToken } from './launch-gate.ts';
export type { ProxyLogger } from './log.ts';

export interface StartProxyOptions {
  pool: Pool;
  /** A store to read and write through; by default one is created over `pool` (and closed with the proxy). */
  store?: ResourceStore;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  config?: Partial<ProxyConfig>;
  log?: ProxyLogger;
  /** Wait for the route table before resolving (default true): a restarted proxy routes at once. */
  waitForRoutes?: boolean;
  /** Where tokens and users are checked; by default an Identity over `pool` (tests count its calls). */
  identity?: Identity;
  /**
   * A cluster worker: /metrics reports every worker's metrics (gathered by the
   * primary) instead of this process's alone. See proxy/cluster-metrics.ts.
   */
  clusterWorker?: boolean;
}

export interface RunningProxy {
  /** e.g. `http://127.0.0.1:8000` */
  url: string;
  port: number;
  config: ProxyConfig;
  routes: RouteTable;
  /** Writes pending lastActivityAt now (tests, shutdown). */
  flushActivity(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(options: StartProxyOptions): Promise<RunningProxy> {
  const config = loadProxyConfig({
    ...options.config,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  const log = options.log ?? silentLogger;
  const ownStore = !options.store;
  const store = options.store ?? new ResourceStore(options.pool, { kinds: [...KINDS] });
  const metrics = new ProxyMetrics();
  const upstreamOptions = {
    connectTimeoutMs: config.connectTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    connections: config.upstreamConnections,
  };
  const toolUpstreamOptions = {
    ...upstreamOptions,
    // A tool's cookie for the parent domain, or named like berth's, never reaches the browser.
    setCookieFilter: toolSetCookieFilter((cookie, reason) => {
      metrics.toolCookiesDropped.labels(reason).inc();
      log.warn({ cookie, reason }, "a tool's Set-Cookie was not delivered");
    }),
  };
  const routes = new RouteTable({
    store,
    toolDomain: toolDomainOf(config),
    sharedNamespace: config.sharedNamespace,
    resyncMs: config.resyncMs,
    upstream: toolUpstreamOptions,
    toolSecretKey: config.toolSecretKey,
    log,
    onChange: (n) => metrics.routes.set(n),
  });
  const identity = options.identity ?? new Identity(options.pool);
  const sessions = new Sessions(options.pool);
  const relays = new WebSocketRelays({
    pingMs: config.wsPingMs,
    onOpen: () => metrics.websockets.inc(),
    onClose: () => metrics.websockets.dec(),
    onUpstreamError: () => metrics.upstreamErrors.labels('websocket').inc(),
  });
  const ctx: ProxyContext = {
    config,
    store,
    identity,
    sessions,
    auth: new Authenticator(
      identity,
      sessions,
      config.authCacheMs,
      sessionCookieName(config.publicScheme),
    ),
    routes,
    activity: new ActivityRecorder(store, config.activityFlushMs, log, () =>
      metrics.activityWrites.inc(),
    ),
    metrics,
    limits: new ProxyRateLimits(config, metrics, log),
    relays,
    api: new Upstream(new URL(config.apiUpstream).origin, upstreamOptions),
    log,
    metricsText: options.clusterWorker
      ? clusterMetricsText(metrics.registry)
      : () => metrics.registry.metrics(),
  };
  const handler = new ProxyServer(ctx);
  // Under https every answer, a tool's included, carries HSTS (crds/hostname.ts says why).
  const onRequest: RequestListener =
    config.publicScheme === 'https'
      ? (req, res) => {
          res.setHeader('strict-transport-security', STRICT_TRANSPORT_SECURITY);
          handler.onRequest(req, res);
        }
      : handler.onRequest;
  const server: Server = createServer(
    {
      // Uploads and downloads of any length: no whole-request deadline.
      requestTimeout: 0,
      headersTimeout: 60_000,
      keepAliveTimeout: 65_000,
      // Long-lived browser connections: do not let the socket idle timer cut streams.
      connectionsCheckingInterval: 30_000,
      // A request without Content-Length or Transfer-Encoding (GETs, nearly all of a
      // proxy's traffic) gets an already-ended body stream: no stream events per request.
      optimizeEmptyRequests: true,
    },
    onRequest,
  );
  server.on('upgrade', handler.onUpgrade);
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  routes.start();
  // A revocation anywhere (sign-out on another replica, a token deleted, a user's
  // rights changed) empties the credential cache here at once, instead of within
  // authCacheMs. After a reconnect the cache is emptied too: the gap may have held one.
  const credentials = new Listener(options.pool.options, {
    channel: CREDENTIALS_CHANNEL,
    applicationName: 'berth-proxy-credentials',
    onNotify: () => ctx.auth.forgetAll(),
    onConnected: () => ctx.auth.forgetAll(),
    onError: (err) =>
      log.warn(
        { err: String(err) },
        'credential-change listener lost its connection; reconnecting',
      ),
  });
  credentials.startInBackground();
  // Open WebSockets whose credential is revoked or whose access is gone close (1008).
  const guard = new ConnectionGuard({
    identity,
    auth: ctx.auth,
    routes,
    relays,
    sharedNamespace: config.sharedNamespace,
    onClosed: (n) => log.info({ closed: n }, 'closed WebSockets whose credential or access ended'),
    onError: (err) => log.warn({ err: String(err) }, 'WebSocket re-check failed'),
  });
  const sweep = setInterval(() => void sessions.deleteExpired().catch(() => {}), 600_000);
  sweep.unref();
  const cleanup = async () => {
    clearInterval(sweep);
    guard.close();
    await credentials.close();
    relays.close();
    await routes.close();
    await ctx.activity.close();
    ctx.api.close();
    if (ownStore) await store.close();
  };
  try {
    if (options.waitForRoutes !== false) await routes.whenLoaded();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await cleanup();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  log.info({ port, baseDomain: config.baseDomain }, 'proxy listening');
  return {
    url: `http://${hostForUrl === '0.0.0.0' || hostForUrl === '[::]' ? '127.0.0.1' : hostForUrl}:${port}`,
    port,
    config,
    routes,
    flushActivity: () => ctx.activity.flush(),
    async close() {
      // Upgraded sockets still count as the server's connections: end them first.
      relays.closeAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await cleanup();
    },
  };
}
