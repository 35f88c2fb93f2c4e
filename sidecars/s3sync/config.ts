// s3sync's environment, read by the one settings loader (settings/). The
// controllers give BERTH_FILES_BUCKET, BERTH_FILES_PREFIX and BERTH_HOME (ecs-local
// rewrites the home's container path to the task's folder); the S3 endpoint and
// credentials come from the SDK's own variables (AWS_ENDPOINT_URL_S3, the task
// role through the container credentials endpoint).
import { z } from 'zod';
import {
  commaList,
  durationMs,
  flag,
  integer,
  loadSettings,
  setting,
} from '../../settings/index.ts';

export const DEFAULT_EXCLUDES = [
  '.ipynb_checkpoints',
  '__pycache__',
  '.cache',
  '.local/share/Trash',
  '*.pyc',
  '.~lock.*#',
  '.s3sync',
];

export const s3syncConfigSchema = z.object({
  bucket: setting(z.string().min(3).max(63), {
    env: 'BERTH_FILES_BUCKET',
    shownDefault: 'none (required; set by the controllers)',
    description: "The bucket that holds every user's files.",
  }),
  prefix: setting(
    z
      .string()
      .min(2)
      .regex(/^[^/].*\/$/, 'must be a key prefix ending in "/" and not starting with one'),
    {
      env: 'BERTH_FILES_PREFIX',
      shownDefault: 'none (required; `home/<uid>/`)',
      description: "The user's home prefix in the bucket: the one part of it this sidecar syncs.",
    },
  ),
  home: setting(z.string().min(1), {
    env: 'BERTH_HOME',
    shownDefault: "none (required; the ToolDefinition's spec.homePath)",
    description: "The folder kept in step with the prefix (the task's home volume).",
  }),
  endpoint: setting(z.url().optional(), {
    env: 'AWS_ENDPOINT_URL_S3',
    shownDefault: "none: AWS's own endpoint",
    description:
      'An S3-compatible endpoint (ecs-local locally): requests go path-style there, with checksums only where required.',
  }),
  region: setting(z.string().min(1).default('eu-west-2'), {
    env: 'AWS_REGION',
    description: 'The region requests are signed for.',
  }),
  port: setting(integer(0, 65535).default(8890), {
    env: 'S3SYNC_PORT',
    description: 'The port of `/healthz` and `/metrics`.',
  }),
  host: setting(z.string().min(1).default('127.0.0.1'), {
    env: 'BERTH_BIND_HOST',
    description: 'The address `/healthz` and `/metrics` listen on.',
  }),
  pollIntervalMs: setting(durationMs(100, 3_600_000).default(60_000), {
    env: 'S3SYNC_POLL_INTERVAL_MS',
    description:
      'How often the prefix is listed in full whatever the change marker says (it catches writers that do not bump it, such as code writing to S3 directly).',
  }),
  markerIntervalMs: setting(durationMs(100, 3_600_000).default(2000), {
    env: 'S3SYNC_MARKER_INTERVAL_MS',
    description:
      'How often the change marker (`<prefix>.s3sync/changed`, bumped by every berth writer) is checked with one HEAD; when another writer moved it, the prefix is listed at once.',
  }),
  debounceMs: setting(durationMs(0, 60_000).default(300), {
    env: 'S3SYNC_DEBOUNCE_MS',
    description:
      'How long a changed file must stay quiet (same size and mtime) before it is uploaded.',
  }),
  multipartThresholdBytes: setting(
    integer(5 * 1024 * 1024, 5 * 1024 ** 3).default(16 * 1024 * 1024),
    {
      env: 'S3SYNC_MULTIPART_THRESHOLD_BYTES',
      description:
        'Files this size or larger are uploaded in parts (the part size grows so there are at most 10,000).',
    },
  ),
  concurrency: setting(integer(1, 64).default(8), {
    env: 'S3SYNC_CONCURRENCY',
    description: 'How many files are moved at once (and parts of one multipart upload in flight).',
  }),
  exclude: setting(commaList(z.string().min(1)).default(DEFAULT_EXCLUDES), {
    env: 'S3SYNC_EXCLUDE',
    shownValue: 'comma-separated globs',
    shownDefault: DEFAULT_EXCLUDES.join(', '),
    description:
      'Never synced either way: a glob without `/` matches a name at any depth, one with `/` a path from home.',
  }),
  localOnlyFolder: setting(
    z
      .string()
      .min(1)
      .regex(/^[^/]+$/, 'must be one folder name')
      .default('local-only'),
    {
      env: 'S3SYNC_LOCAL_ONLY_FOLDER',
      description: 'A folder in home for large data that stays in the task and is never synced.',
    },
  ),
  syncLocalOnly: setting(flag().default(false), {
    env: 'S3SYNC_SYNC_LOCAL_ONLY',
    description: 'Sync the local-only folder too.',
  }),
  drainTimeoutMs: setting(durationMs(0, 600_000).default(25_000), {
    env: 'S3SYNC_DRAIN_TIMEOUT_MS',
    description:
      "On SIGTERM, how long to finish what is queued before exiting (under ECS's 30 s stop timeout).",
  }),
  stuckAfterMs: setting(durationMs(100, 86_400_000).default(300_000), {
    env: 'S3SYNC_STUCK_AFTER_MS',
    description:
      'A poll or upload running this long, or no successful poll for this long, marks the sidecar unhealthy.',
  }),
  requestTimeoutMs: setting(durationMs(100, 3_600_000).default(60_000), {
    env: 'S3SYNC_REQUEST_TIMEOUT_MS',
    description: 'A request to S3 idle this long fails (and is retried).',
  }),
});

export type S3syncConfig = z.output<typeof s3syncConfigSchema>;

/** Reads s3sync's settings; throws ConfigError naming each bad variable. */
export function loadS3syncConfig(
  env: Record<string, string | undefined> = process.env,
  values?: Partial<S3syncConfig>,
): S3syncConfig {
  return loadSettings(s3syncConfigSchema, env, { component: 's3sync', values });
}

/** Only what `main.ts healthcheck` needs: where the health endpoint is. */
export function loadHealthcheckConfig(env: Record<string, string | undefined> = process.env) {
  return loadSettings(s3syncConfigSchema.pick({ port: true, host: true }), env, {
    component: 's3sync healthcheck',
  });
}
