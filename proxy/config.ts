// The proxy's settings: BERTH_PROXY_* (and BERTH_BASE_DOMAIN), read by the one
// settings loader (settings/).
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { durationMs, integer, loadSettings, setting } from '../settings/index.ts';
import { toolSecretKeySchema } from '../store/index.ts';

const ms = (def: number) => durationMs(0, Number.MAX_SAFE_INTEGER).default(def);

export const proxyConfigSchema = z.strictObject({
  host: setting(z.string().min(1).default('127.0.0.1'), {
    env: 'BERTH_PROXY_HOST',
    description: 'Address to listen on.',
  }),
  port: setting(integer(0, 65535).default(8000), {
    env: 'BERTH_PROXY_PORT',
    description: 'TCP port; 0 picks a free one.',
  }),
  baseDomain: setting(
    z
      .string()
      .min(1)
      .max(200)
      .transform((s) => s.toLowerCase().replace(/\.$/, ''))
      .pipe(
        z
          .string()
          .regex(
            /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/,
            'must be a DNS name such as localhost or berth.example.org',
          ),
      )
      .default('localhost'),
    {
      env: 'BERTH_BASE_DOMAIN',
      description:
        "berth's own host; tool hosts are `<instance>--<namespace>.<base domain>`, shared apps `<instance>.<base domain>`.",
    },
  ),
  publicScheme: setting(z.enum(['http', 'https']).default('http'), {
    env: 'BERTH_PROXY_PUBLIC_SCHEME',
    description:
      'Scheme browsers use to reach the proxy (https behind a TLS-terminating load balancer): cookies get Secure, redirects use it.',
  }),
  trustedHops: setting(integer(0, 10).default(0), {
    env: 'BERTH_PROXY_TRUSTED_HOPS',
    description: 'How many proxies in front of this one may set X-Forwarded-*; 0 trusts none.',
  }),
  connectTimeoutMs: setting(ms(5_000), {
    env: 'BERTH_PROXY_CONNECT_TIMEOUT_MS',
    description: 'Longest wait for a connection to an upstream.',
  }),
  headersTimeoutMs: setting(ms(60_000), {
    env: 'BERTH_PROXY_HEADERS_TIMEOUT_MS',
    description:
      "Longest wait for an upstream's response headers (504 after it); bodies have no idle timeout.",
  }),
  apiUpstream: setting(z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'), {
    env: 'BERTH_PROXY_API_UPSTREAM',
    description:
      "Where berth's own host (everything but /_berth/*, /healthz, /readyz, /metrics) is forwarded: the API server.",
  }),
  sharedNamespace: setting(z.string().min(1).max(63).default('shared'), {
    env: 'BERTH_PROXY_SHARED_NAMESPACE',
    description: 'Namespace of shared apps, reached as `<instance>.<base domain>`.',
  }),
  resyncMs: setting(ms(300_000), {
    env: 'BERTH_PROXY_RESYNC_MS',
    description: 'How often the route table is relisted in full, besides the watch.',
  }),
  activityFlushMs: setting(ms(30_000), {
    env: 'BERTH_PROXY_ACTIVITY_FLUSH_MS',
    description: "An instance's lastActivityAt is written at most this often.",
  }),
  wsPingMs: setting(ms(30_000), {
    env: 'BERTH_PROXY_WS_PING_MS',
    description:
      'A WebSocket that carried nothing from the tool for this long gets a ping frame; 0 disables.',
  }),
  authCacheMs: setting(ms(5_000), {
    env: 'BERTH_PROXY_AUTH_CACHE_MS',
    description:
      'Verified sessions and tokens are cached this long: a revocation takes effect within it.',
  }),
  sessionIdleMs: setting(ms(8 * 3_600_000), {
    env: 'BERTH_PROXY_SESSION_IDLE_MS',
    description: 'A tool-host session unused this long ends.',
  }),
  sessionAbsoluteMs: setting(ms(24 * 3_600_000), {
    env: 'BERTH_PROXY_SESSION_ABSOLUTE_MS',
    description: 'A tool-host session ends this long after the handoff, used or not.',
  }),
  handoffCodeTtlMs: setting(ms(60_000), {
    env: 'BERTH_PROXY_HANDOFF_CODE_TTL_MS',
    description: 'How long a sign-in handoff code may be exchanged for a tool-host cookie.',
  }),
  upstreamConnections: setting(integer(1, 10_000).default(128), {
    env: 'BERTH_PROXY_UPSTREAM_CONNECTIONS',
    description: 'Upper bound of connections per upstream (per tool task).',
  }),
  toolSecretKey: setting(toolSecretKeySchema(), {
    env: 'BERTH_TOOL_SECRET_KEY',
    secret: true,
    shownDefault: 'none (required; `berth up` keeps one in `<BERTH_DATA_DIR>/tool-secret.key`)',
    shownValue: 'at least 32 bytes as hex or base64',
    description:
      "The controllers' key of the tool secrets: the proxy derives each launch's secret from it and presents it to the task's gate (never to a browser).",
  }),
  workers: setting(
    z
      .union([z.literal('auto'), integer(1, 64)], {
        error: 'must be a number of processes from 1 to 64, or auto (one per CPU)',
      })
      .default(1),
    {
      env: 'BERTH_PROXY_WORKERS',
      shownValue: '1 to 64, or `auto` (one per CPU)',
      description:
        'Processes serving the port (`berth proxy` only); each worker is a full replica (own route table, caches and database pool), /metrics answers for all.',
    },
  ),
});

export type ProxyConfig = z.infer<typeof proxyConfigSchema>;

/** How many processes `workers` means on this machine. */
export function workerCount(config: Pick<ProxyConfig, 'workers'>): number {
  return config.workers === 'auto' ? availableParallelism() : config.workers;
}

/** Environment first, then `overrides` (tests, bin/); throws ConfigError naming the variable. */
export function loadProxyConfig(
  overrides: Partial<ProxyConfig> = {},
  env: NodeJS.ProcessEnv = process.env,
): ProxyConfig {
  return loadSettings(proxyConfigSchema, env, { component: 'proxy', values: overrides });
}
