// The fastify server: body handling, authentication, errors as Status objects,
// metrics, and the routes. No business logic here; it lives in routes/.
import fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import { ApiError, KINDS, type KindInfo } from '../crds/index.ts';
import type { Identity, Pool } from '../store/index.ts';
import { authenticate, WWW_AUTHENTICATE } from './auth.ts';
import type { ApiConfig } from './config.ts';
import type { ApiDeps } from './context.ts';
import { toApiError } from './errors.ts';
import type { FilesStore } from './files/index.ts';
import { type ApiMetrics, createMetrics } from './metrics.ts';
import { DebugRequestLogs } from './request-logs.ts';
import { registerApprovalRoutes } from './routes/approval.ts';
import { registerAuditRoutes } from './routes/audit.ts';
import { registerDatasetAccessRoutes } from './routes/dataset-access.ts';
import { registerDiscoveryRoutes } from './routes/discovery.ts';
import { registerFilesRoutes } from './routes/files.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerIdentityRoutes } from './routes/identity.ts';
import { registerKeepRunningRoutes } from './routes/keep-running.ts';
import { shown } from './routes/paths.ts';
import { registerPrometheusTargetsRoutes } from './routes/prometheus-targets.ts';
import { registerResourceRoutes } from './routes/resources.ts';
import { registerUsageRoutes } from './routes/usage.ts';
import { registerUserRoutes } from './routes/users.ts';
import { registerSignInRoutes, type SignInDeps } from './sign-in/index.ts';
import type { StorePort } from './store-port.ts';
import { filesConnectSources, registerUiRoutes } from './ui/serve.ts';
import { WatchLimiter } from './watch-limiter.ts';

export interface ApiServerOptions {
  pool: Pool;
  store: StorePort;
  identity: Identity;
  config: ApiConfig;
  kinds?: readonly KindInfo[];
  /** Browser sign-in, sessions and the web UI; without it only bearer tokens work. */
  signIn?: SignInDeps;
  /** Where log lines go (`berth up` pretty-prints them in a terminal); stdout by default. */
  logStream?: DestinationStream;
  /** The files bucket (BERTH_FILES_BUCKET); without it the files endpoints answer 503 FilesNotConfigured. */
  files?: FilesStore;
}

export interface ApiServer {
  app: FastifyInstance;
  metrics: ApiMetrics;
  watches: WatchLimiter;
}

const STATUS_CONTENT_TYPE = 'application/json; charset=utf-8';
// Longest path parameter the router accepts; names are at most 253 characters.
const MAX_PATH_SEGMENT = 2048;

function routeLabel(req: FastifyRequest): string {
  return req.routeOptions.url ?? 'unmatched';
}

export function buildApiServer(opts: ApiServerOptions): ApiServer {
  const { config } = opts;
  const app = fastify({
    logger: {
      level: config.logLevel,
      // Tokens and cookies never reach a log line, even if a serializer changes.
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          'token',
        ],
        censor: '[redacted]',
      },
      ...(opts.logStream ? { stream: opts.logStream } : {}),
      // One-time secrets ride in query strings (the OIDC callback's code and state):
      // log the path and which parameters there were, never their values.
      serializers: {
        req: (req) => ({
          method: req.method,
          url: withoutSecretQuery(req.url),
          host: req.host,
        }),
      },
    },
    logController: new DebugRequestLogs(),
    bodyLimit: config.bodyLimitBytes,
    // Time to receive a whole request (slow clients); responses (watches) are not limited by it.
    requestTimeout: config.receiveTimeoutMs,
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PATH_SEGMENT },
    // Errors the router raises before any route runs (bad escapes, huge segments).
    frameworkErrors: (err, _req, reply) => {
      const code = (err as { code?: string }).code;
      const message =
        code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? `a path segment is longer than ${MAX_PATH_SEGMENT} characters`
          : code === 'FST_ERR_BAD_URL'
            ? 'the URL path is not valid: percent-escapes must encode UTF-8'
            : 'the request could not be routed';
      const status = new ApiError('BadRequest', message).toStatus();
      void (reply as unknown as FastifyReply).code(400).type(STATUS_CONTENT_TYPE).send(status);
    },
    // A malformed request line or header still gets a Status, not a bare 400.
    clientErrorHandler: (err, socket) => {
      const code = (err as { code?: string }).code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const status = new ApiError('BadRequest', 'malformed HTTP request').toStatus();
      const body = JSON.stringify({ ...status, code });
      if (socket.writable) {
        socket.end(
          `HTTP/1.1 ${code} ${code === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
            `Content-Type: ${STATUS_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else {
        socket.destroy();
      }
    },
  });
  const metrics = createMetrics();
  const watches = new WatchLimiter(config.maxWatchesPerToken);
  const deps: ApiDeps = {
    pool: opts.pool,
    store: opts.store,
    identity: opts.identity,
    config,
    metrics,
    watches,
    kinds: opts.kinds ?? KINDS,
  };

  // Bodies are read raw (within bodyLimit) and parsed by the route, which knows
  // whether a media type is right for its verb (415 otherwise).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.decorateRequest('principal', undefined);

  const signIn = opts.signIn;
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config.public || !req.routeOptions.url) return;
    // A browser's session cookie is the alternative to a bearer token; a request
    // that changes state with it needs the CSRF token (bearer requests are exempt).
    if (signIn && req.headers.authorization === undefined) {
      const s = await signIn.auth.session(req);
      if (s) {
        signIn.auth.checkCsrf(req, s.cookieValue);
        req.principal = s.principal;
        return;
      }
    }
    req.principal = await authenticate(deps.identity, req.headers.authorization);
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = routeLabel(req);
    const labels = { method: req.method, route };
    metrics.requests.inc({ ...labels, code: String(reply.statusCode) });
    metrics.duration.observe(labels, reply.elapsedTime / 1000);
  });

  // Watches are long-lived responses; end them so that close() does not wait for clients.
  app.addHook('preClose', async () => watches.abortAll());

  app.setErrorHandler((err, req, reply) => {
    const apiError = toApiError(err, config);
    if (apiError.reason === 'InternalError') {
      req.log.error({ err }, 'unexpected error');
    } else if (apiError.code >= 500) {
      req.log.warn({ reason: apiError.reason, message: apiError.message }, 'request failed');
    }
    if (apiError.reason === 'Unauthorized') reply.header('WWW-Authenticate', WWW_AUTHENTICATE);
    const retry = apiError.details?.retryAfterSeconds;
    if (retry !== undefined) reply.header('Retry-After', String(retry));
    return reply.code(apiError.code).type(STATUS_CONTENT_TYPE).send(apiError.toStatus());
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const err = new ApiError(
      'NotFound',
      `the server could not find the requested resource (${req.method} ${shown(path, 200)})`,
    );
    return reply.code(404).type(STATUS_CONTENT_TYPE).send(err.toStatus());
  });

  registerHealthRoutes(app, deps);
  registerDiscoveryRoutes(app, deps);
  registerIdentityRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerUsageRoutes(app, deps);
  registerUserRoutes(app, deps);
  registerFilesRoutes(app, deps, opts.files);
  registerResourceRoutes(app, deps);
  registerApprovalRoutes(app, deps);
  registerKeepRunningRoutes(app, deps);
  registerDatasetAccessRoutes(app, deps);
  registerPrometheusTargetsRoutes(app, deps);
  if (signIn) {
    registerSignInRoutes(app, signIn);
    // The Files page uploads straight to S3: its origin joins the page's connect-src.
    registerUiRoutes(app, signIn, {
      connectSources: filesConnectSources({
        bucket: config.filesBucket,
        endpoint: config.s3Endpoint,
        region: config.s3Region,
      }),
    });
  }
  return { app, metrics, watches };
}

const SECRET_QUERY = new Set([
  'code',
  'state',
  'token',
  'session_state',
  'id_token',
  'access_token',
]);

/** `/auth/callback?code=…&state=…` -> `/auth/callback?code=[redacted]&state=[redacted]`. */
export function withoutSecretQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let hidden = false;
  for (const key of new Set(params.keys())) {
    if (SECRET_QUERY.has(key.toLowerCase())) {
      params.set(key, '[redacted]');
      hidden = true;
    }
  }
  return hidden
    ? `${url.slice(0, q)}?${params.toString().replaceAll('%5Bredacted%5D', '[redacted]')}`
    : url;
}
