// api/: the HTTP API server. Imports crds/, store/ and settings/ only (through their index.ts).
import { KINDS } from '../crds/index.ts';
import { Identity, type Pool, ResourceStore } from '../store/index.ts';
import { type ApiConfig, loadApiConfig } from './config.ts';
import { startCredentialRecheck } from './credential-recheck.ts';
import { createFilesStore } from './files/index.ts';
import { type ApiServerOptions, buildApiServer } from './server.ts';
import {
  createSignIn,
  loadSignInConfig,
  type SignInConfig,
  type SignInConfigInput,
} from './sign-in/index.ts';
import { storePort } from './store-port.ts';

export { type ApiConfig, apiConfigSchema, ConfigError, loadApiConfig } from './config.ts';
export {
  DISCOVERED_LABELS,
  type PrometheusScrapeConfigOptions,
  prometheusScrapeConfig,
} from './prometheus-config.ts';
export { PROMETHEUS_TARGETS_PATH } from './routes/prometheus-targets.ts';
export { type ApiServer, type ApiServerOptions, buildApiServer } from './server.ts';
export {
  loadSignInConfig,
  publicOrigin,
  type SignInConfig,
  type SignInConfigInput,
  signInConfigSchema,
} from './sign-in/index.ts';
export { type StorePort, storePort } from './store-port.ts';

/** How often open watches' credentials are checked again besides on notification. */
const CREDENTIAL_RECHECK_MS = 30_000;

export interface StartApiOptions {
  pool: Pool;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  config?: Partial<ApiConfig>;
  /** A store to serve; by default one is created over `pool` (and closed with the server). */
  store?: ResourceStore;
  /**
   * Browser sign-in (BERTH_SIGN_IN and friends, see api/README.md) over the
   * environment; `false` turns the sign-in routes and the UI off.
   */
  signIn?: Partial<SignInConfigInput> | false;
  /** Where log lines go; stdout by default. */
  logStream?: ApiServerOptions['logStream'];
}

export interface RunningApi {
  /** e.g. `http://127.0.0.1:8080` */
  url: string;
  store: ResourceStore;
  identity: Identity;
  config: ApiConfig;
  /** Undefined when sign-in was turned off. */
  signIn: SignInConfig | undefined;
  close(): Promise<void>;
}

/** Starts the API server (and the store's maintenance) and resolves once it listens. */
export async function startApi(options: StartApiOptions): Promise<RunningApi> {
  const config = loadApiConfig({
    ...options.config,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  const ownStore = !options.store;
  let server: ReturnType<typeof buildApiServer> | undefined;
  const store =
    options.store ??
    new ResourceStore(options.pool, {
      kinds: [...KINDS],
      onBackgroundError: (err, what) =>
        server?.app.log.error({ err, what }, 'store background work failed'),
    });
  const identity = new Identity(options.pool, {
    tokenDefaultTtlMs: config.tokenDefaultTtlMs,
    tokenMaxTtlMs: config.tokenMaxTtlMs,
  });
  // Configuration errors (e.g. the development sign-in in production) stop the start.
  const signInConfig =
    options.signIn === false ? undefined : loadSignInConfig(options.signIn ?? {});
  const signIn = signInConfig ? createSignIn(signInConfig, options.pool, identity) : undefined;
  const files = createFilesStore(config);
  server = buildApiServer({
    pool: options.pool,
    store: storePort(store),
    identity,
    config,
    ...(signIn ? { signIn } : {}),
    ...(files ? { files } : {}),
    ...(options.logStream ? { logStream: options.logStream } : {}),
  });
  // Open watches whose credential is revoked end within moments (NOTIFY), or at
  // the next periodic check (an expiry notifies nobody).
  const credentials = startCredentialRecheck({
    pool: options.pool,
    identity,
    watches: server.watches,
    intervalMs: CREDENTIAL_RECHECK_MS,
    onError: (err, what) =>
      server?.app.log.warn({ err: String(err), what }, 'credential re-check failed'),
  });
  const stopMaintenance =
    config.maintenanceIntervalMs > 0
      ? store.startMaintenance(
          config.maintenanceIntervalMs,
          config.eventTtlMs,
          config.auditRetentionMs,
        )
      : () => {};
  try {
    await server.app.listen({ host: config.host, port: config.port });
  } catch (err) {
    stopMaintenance();
    await credentials.close();
    if (ownStore) await store.close();
    files?.close();
    throw err;
  }
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const app = server.app;
  return {
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`,
    store,
    identity,
    config,
    signIn: signInConfig,
    async close() {
      stopMaintenance();
      await credentials.close();
      // Open watches end when the store closes; then the server can drain.
      if (ownStore) await store.close();
      // Give in-flight requests a moment, then cut what is left (keep-alive
      // sockets a client holds open would otherwise delay the stop by minutes).
      const closing = app.close();
      const force = setTimeout(() => app.server.closeAllConnections(), 1000);
      await closing;
      clearTimeout(force);
      files?.close();
    },
  };
}
