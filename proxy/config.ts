// The proxy's configuration: BERTH_PROXY_* environment variables (and
// BERTH_BASE_DOMAIN), parsed by one zod schema with clear errors.
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const ms = (def: number) =>
  z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(def);

export const proxyConfigSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8000),
  /** Tool hosts are `<instance>--<namespace>.<baseDomain>`; berth's own host is the base domain. */
  baseDomain: z
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
  /** Scheme browsers use to reach the proxy (https behind a TLS-terminating load balancer): cookies get Secure, redirects use it. */
  publicScheme: z.enum(['http', 'https']).default('http'),
  /** How many proxies in front of this one may set X-Forwarded-*; 0 trusts none. */
  trustedHops: z.coerce.number().int().min(0).max(10).default(0),
  connectTimeoutMs: ms(5_000),
  /** Longest wait for an upstream's response headers (504 after it). Bodies have no idle timeout. */
  headersTimeoutMs: ms(60_000),
  /** Where berth's own host (everything but /_berth/*, /healthz, /readyz, /metrics) is forwarded: the API server. */
  apiUpstream: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
  /** Namespace of shared apps, reached as `<instance>.<baseDomain>`. */
  sharedNamespace: z.string().min(1).max(63).default('shared'),
  /** Full relist of the route table, besides the watch. */
  resyncMs: ms(300_000),
  /** lastActivityAt is written at most this often per instance. */
  activityFlushMs: ms(30_000),
  /** A WebSocket that carried nothing from the tool for this long gets a ping frame; 0 disables. */
  wsPingMs: ms(30_000),
  /** Verified sessions and tokens are cached this long: a revocation takes effect within it. */
  authCacheMs: ms(5_000),
  sessionIdleMs: ms(8 * 3_600_000),
  sessionAbsoluteMs: ms(24 * 3_600_000),
  handoffCodeTtlMs: ms(60_000),
  /** Upper bound of connections per upstream (per tool task). */
  upstreamConnections: z.coerce.number().int().min(1).max(10_000).default(128),
  /**
   * Processes serving the port (`berth proxy` only): 1, a number, or `auto` (one
   * per CPU). Each worker is a full replica (own route table, caches and database
   * pool); /metrics answers for all of them.
   */
  workers: z
    .union([z.literal('auto'), z.coerce.number().int().min(1).max(64)], {
      error: 'must be a number of processes from 1 to 64, or auto (one per CPU)',
    })
    .default(1),
});

export type ProxyConfig = z.infer<typeof proxyConfigSchema>;

export class ProxyConfigError extends Error {}

const ENV: Record<keyof ProxyConfig, string> = {
  host: 'BERTH_PROXY_HOST',
  port: 'BERTH_PROXY_PORT',
  baseDomain: 'BERTH_BASE_DOMAIN',
  publicScheme: 'BERTH_PROXY_PUBLIC_SCHEME',
  trustedHops: 'BERTH_PROXY_TRUSTED_HOPS',
  connectTimeoutMs: 'BERTH_PROXY_CONNECT_TIMEOUT_MS',
  headersTimeoutMs: 'BERTH_PROXY_HEADERS_TIMEOUT_MS',
  apiUpstream: 'BERTH_PROXY_API_UPSTREAM',
  sharedNamespace: 'BERTH_PROXY_SHARED_NAMESPACE',
  resyncMs: 'BERTH_PROXY_RESYNC_MS',
  activityFlushMs: 'BERTH_PROXY_ACTIVITY_FLUSH_MS',
  wsPingMs: 'BERTH_PROXY_WS_PING_MS',
  authCacheMs: 'BERTH_PROXY_AUTH_CACHE_MS',
  sessionIdleMs: 'BERTH_PROXY_SESSION_IDLE_MS',
  sessionAbsoluteMs: 'BERTH_PROXY_SESSION_ABSOLUTE_MS',
  handoffCodeTtlMs: 'BERTH_PROXY_HANDOFF_CODE_TTL_MS',
  upstreamConnections: 'BERTH_PROXY_UPSTREAM_CONNECTIONS',
  workers: 'BERTH_PROXY_WORKERS',
};

/** How many processes `workers` means on this machine. */
export function workerCount(config: Pick<ProxyConfig, 'workers'>): number {
  return config.workers === 'auto' ? availableParallelism() : config.workers;
}

/** Environment first, then `overrides` (tests, bin/). Throws ProxyConfigError naming the variable. */
export function loadProxyConfig(
  overrides: Partial<ProxyConfig> = {},
  env: NodeJS.ProcessEnv = process.env,
): ProxyConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  Object.assign(raw, overrides);
  const result = proxyConfigSchema.safeParse(raw);
  if (!result.success) {
    const msgs = result.error.issues.map((i) => {
      const key = String(i.path[0] ?? '');
      const name = ENV[key as keyof ProxyConfig] ?? key;
      return `${name}: ${i.message}`;
    });
    throw new ProxyConfigError(`invalid configuration: ${msgs.join('; ')}`);
  }
  return result.data;
}
