// The proxy's settings: BERTH_PROXY_* (and BERTH_BASE_DOMAIN), read by the one
// settings loader (settings/). Plain http is refused for a base domain that is
// not local unless BERTH_ALLOW_INSECURE_HTTP says so (as in api/sign-in/config.ts).
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { isLocalHostName } from '../crds/index.ts';
import { durationMs, flag, integer, loadSettings, setting } from '../settings/index.ts';
import { toolSecretKeySetting } from '../store/index.ts';

const ms = (def: number) => durationMs(0, Number.MAX_SAFE_INTEGER).default(def);

const dnsName = z
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
  );

const proxySettings = z.strictObject({
  host: setting(z.string().min(1).default('127.0.0.1'), {
    env: 'BERTH_PROXY_HOST',
    description: 'Address to listen on.',
  }),
  port: setting(integer(0, 65535).default(8000), {
    env: 'BERTH_PROXY_PORT',
    description: 'TCP port; 0 picks a free one.',
  }),
  baseDomain: setting(dnsName.default('localhost'), {
    env: 'BERTH_BASE_DOMAIN',
    description:
      "berth's own host; tool hosts are `<instance>--<namespace>.<tool domain>`, shared apps `<instance>.<tool domain>`.",
  }),
  toolDomain: setting(dnsName.optional(), {
    env: 'BERTH_TOOL_DOMAIN',
    shownDefault: 'the base domain',
    description:
      "Domain of the tool hosts. Another registrable domain than berth's own (e.g. `tools-example.net` for `berth.example.com`) keeps a tool's pages from reading or setting cookies for berth's host.",
  }),
  publicScheme: setting(z.enum(['http', 'https']).default('http'), {
    env: 'BERTH_PROXY_PUBLIC_SCHEME',
    description:
      'Scheme browsers use to reach the proxy (https behind a TLS-terminating load balancer): cookies get Secure, redirects use it.',
  }),
  allowInsecureHttp: setting(flag().default(false), {
    env: 'BERTH_ALLOW_INSECURE_HTTP',
    description:
      'Allow http for a base domain that is not local (tests on a private network only): sessions and handoff codes then cross the network in the clear. Behind a TLS-terminating load balancer the scheme is https, not this.',
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
  launchRateLimit: setting(integer(0, 100_000).default(10), {
    env: 'BERTH_LAUNCH_RATE_LIMIT',
    description:
      "Launches on visit one user may cause per window, counted with the API's in PostgreSQL (429 with Retry-After above it); 0 = no limit.",
  }),
  launchRateWindowMs: setting(durationMs(1000, 24 * 3_600_000).default(60_000), {
    env: 'BERTH_LAUNCH_RATE_WINDOW_MS',
    description: 'The window BERTH_LAUNCH_RATE_LIMIT counts launches in.',
  }),
  upstreamConnections: setting(integer(1, 10_000).default(128), {
    env: 'BERTH_PROXY_UPSTREAM_CONNECTIONS',
    description: 'Upper bound of connections per upstream (per tool task).',
  }),
  signInRateLimit: setting(integer(0, 1_000_000).default(60), {
    env: 'BERTH_SIGN_IN_RATE_LIMIT',
    description:
      'Sign-in attempts (token sign-in, handoff callbacks) one client address may make per `BERTH_SIGN_IN_RATE_WINDOW_MS`, per process; 429 above it; 0 = no limit.',
  }),
  signInRateWindowMs: setting(durationMs(1000, 24 * 3_600_000).default(60_000), {
    env: 'BERTH_SIGN_IN_RATE_WINDOW_MS',
    description: 'The window of `BERTH_SIGN_IN_RATE_LIMIT`.',
  }),
  statusRateLimit: setting(integer(0, 1_000_000).default(300), {
    env: 'BERTH_PROXY_STATUS_RATE_LIMIT',
    description:
      "Requests to a tool host's `/_berth/status` one session (or token) may make per `BERTH_PROXY_STATUS_RATE_WINDOW_MS`, per process (a starting page asks once a second); 429 above it; 0 = no limit.",
  }),
  statusRateWindowMs: setting(durationMs(1000, 24 * 3_600_000).default(60_000), {
    env: 'BERTH_PROXY_STATUS_RATE_WINDOW_MS',
    description: 'The window of `BERTH_PROXY_STATUS_RATE_LIMIT`.',
  }),
  toolSecretKey: toolSecretKeySetting(
    "The controllers' key of the tool secrets: the proxy derives each launch's secret from it and presents it to the task's gate (never to a browser).",
  ),
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

export const proxyConfigSchema = proxySettings.superRefine((c, ctx) => {
  if (c.publicScheme === 'http' && !c.allowInsecureHttp && !isLocalHostName(c.baseDomain))
    ctx.addIssue({
      code: 'custom',
      path: ['publicScheme'],
      message: `must be https for the base domain ${c.baseDomain} (http is for localhost; set BERTH_ALLOW_INSECURE_HTTP=true for a test network only)`,
    });
});

export type ProxyConfig = z.infer<typeof proxyConfigSchema>;

/** The domain tool hosts live under: `toolDomain`, else the base domain. */
export function toolDomainOf(config: Pick<ProxyConfig, 'baseDomain' | 'toolDomain'>): string {
  return config.toolDomain ?? config.baseDomain;
}

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
