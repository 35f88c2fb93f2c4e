// The API server's settings: BERTH_API_* (and BERTH_LOG_LEVEL), read by the one
// settings loader (settings/), explicit values over the environment over defaults.
import { z } from 'zod';
import { ConfigError, durationMs, integer, loadSettings, setting } from '../settings/index.ts';

export { ConfigError };

export const apiConfigSchema = z.object({
  host: setting(z.string().min(1).default('127.0.0.1'), {
    env: 'BERTH_API_HOST',
    description: 'Address to listen on; loopback unless told otherwise.',
  }),
  port: setting(integer(0, 65535).default(8080), {
    env: 'BERTH_API_PORT',
    description: 'TCP port; 0 picks a free one.',
  }),
  bodyLimitBytes: setting(integer(1024, 64 * 1024 * 1024).default(1024 * 1024), {
    env: 'BERTH_API_BODY_LIMIT_BYTES',
    description: 'Largest request body (413 above it).',
  }),
  requestTimeoutMs: setting(durationMs(100, 10 * 60_000).default(30_000), {
    env: 'BERTH_API_REQUEST_TIMEOUT_MS',
    description:
      'Longest a non-watch request may take before it answers 504 Timeout (the store work is not cancelled).',
  }),
  receiveTimeoutMs: setting(durationMs(1000, 10 * 60_000).default(60_000), {
    env: 'BERTH_API_RECEIVE_TIMEOUT_MS',
    description: 'Longest a client may take to send the whole request (slow-client protection).',
  }),
  maxWatchesPerToken: setting(integer(1, 10_000).default(20), {
    env: 'BERTH_API_MAX_WATCHES_PER_TOKEN',
    secret: false,
    description: 'Open watches one token may hold at once (429 above it).',
  }),
  maxWatchMs: setting(durationMs(1000, 24 * 3_600_000).default(1_800_000), {
    env: 'BERTH_API_MAX_WATCH_MS',
    replaces: ['BERTH_API_MAX_WATCH_SECONDS'],
    description: 'Longest a watch stays open; the client reconnects from its last resourceVersion.',
  }),
  heartbeatMs: setting(durationMs(100, 10 * 60_000).default(15_000), {
    env: 'BERTH_API_HEARTBEAT_MS',
    description: 'Interval between BOOKMARK events (when asked for) and SSE heartbeats.',
  }),
  maxBodyDepth: setting(integer(8, 10_000).default(100), {
    env: 'BERTH_API_MAX_BODY_DEPTH',
    description: 'Deepest JSON/YAML nesting a body may have.',
  }),
  maintenanceIntervalMs: setting(durationMs(0, 24 * 3_600_000).default(60_000), {
    env: 'BERTH_API_MAINTENANCE_INTERVAL_MS',
    description:
      "How often the store's maintenance (history compaction, orphan collection, Event expiry, the audit sweep) runs; 0 = never.",
  }),
  eventTtlMs: setting(durationMs(0, 365 * 24 * 3_600_000).default(24 * 3_600_000), {
    env: 'BERTH_API_EVENT_TTL_MS',
    description:
      'Events last seen longer ago than this are deleted by the maintenance; 0 keeps them.',
  }),
  auditRetentionMs: setting(
    durationMs(0, 10 * 365 * 24 * 3_600_000).default(400 * 24 * 3_600_000),
    {
      env: 'BERTH_AUDIT_RETENTION_MS',
      description:
        'Audit log entries older than this are deleted by the maintenance; 0 keeps them for ever.',
    },
  ),
  tokenDefaultTtlMs: setting(durationMs(60_000, 3650 * 86_400_000).default(90 * 86_400_000), {
    env: 'BERTH_TOKEN_DEFAULT_TTL_MS',
    description:
      'Lifetime of an API token created without --ttl (90 days), the bootstrap admin token included; capped at the maximum.',
  }),
  tokenMaxTtlMs: setting(durationMs(60_000, 3650 * 86_400_000).default(365 * 86_400_000), {
    env: 'BERTH_TOKEN_MAX_TTL_MS',
    description: 'Longest lifetime an API token may be given; a longer --ttl is refused (422).',
  }),
  launchRateLimit: setting(integer(0, 100_000).default(10), {
    env: 'BERTH_LAUNCH_RATE_LIMIT',
    description:
      'Launches one user may ask for per window, counted in PostgreSQL across every API replica and proxy worker (429 with Retry-After above it); 0 = no limit.',
  }),
  launchRateWindowMs: setting(durationMs(1000, 24 * 3_600_000).default(60_000), {
    env: 'BERTH_LAUNCH_RATE_WINDOW_MS',
    description: 'The window BERTH_LAUNCH_RATE_LIMIT counts launches in.',
  }),
  filesBucket: setting(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
      .optional(),
    {
      env: 'BERTH_FILES_BUCKET',
      shownDefault: '(none: files are off)',
      description:
        "The installation's bucket for users' files (`home/<uid>/`); unset, the files endpoints answer 503 FilesNotConfigured.",
    },
  ),
  s3Endpoint: setting(z.url().optional(), {
    env: 'BERTH_S3_ENDPOINT',
    shownDefault: "AWS's",
    description:
      "S3 endpoint, path-style (ecs-local's locally, e.g. `http://127.0.0.1:4566`); presigned URLs point at it.",
  }),
  s3Region: setting(z.string().min(1).max(64).default('eu-west-2'), {
    env: 'BERTH_S3_REGION',
    description: "The bucket's AWS region (presigned URLs are signed for it).",
  }),
  s3AccessKeyId: setting(z.string().min(1).max(256).optional(), {
    env: 'BERTH_S3_ACCESS_KEY_ID',
    shownDefault: "the SDK's default chain",
    description:
      "Key id for S3 (ecs-local's pair locally); with the secret, else the SDK's default chain.",
  }),
  s3SecretAccessKey: setting(z.string().min(1).max(256).optional(), {
    env: 'BERTH_S3_SECRET_ACCESS_KEY',
    secret: true,
    description: 'The secret of BERTH_S3_ACCESS_KEY_ID (never logged or echoed).',
  }),
  filesPresignTtlMs: setting(durationMs(60_000, 7 * 86_400_000).default(15 * 60_000), {
    env: 'BERTH_FILES_PRESIGN_TTL_MS',
    description:
      'How long a presigned download or upload URL the files endpoints hand out stays valid (S3 allows at most 7 days).',
  }),
  prometheusSdToken: setting(
    z
      .string()
      .min(32, 'expected at least 32 characters (e.g. `openssl rand -hex 32`)')
      .max(1024)
      .regex(/^[\x21-\x7e]+$/, 'expected printable ASCII without spaces')
      .optional(),
    {
      env: 'BERTH_PROMETHEUS_SD_TOKEN',
      secret: true,
      shownDefault: '(none: discovery is off)',
      description:
        "Bearer token Prometheus presents to `GET /apis/berth/v1alpha1/prometheus-targets` (HTTP service discovery of the tools' metrics sidecars); unset, that path answers 404. Never logged or echoed.",
    },
  ),
  logLevel: setting(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    {
      env: 'BERTH_LOG_LEVEL',
      description: 'JSON log lines via pino; authorization and cookie headers are redacted.',
    },
  ),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;

/** Settings from explicit values over environment variables over defaults; throws ConfigError. */
export function loadApiConfig(
  overrides: Partial<ApiConfig> = {},
  env: NodeJS.ProcessEnv = process.env,
): ApiConfig {
  return loadSettings(apiConfigSchema, env, { component: 'API', values: overrides });
}
