// ecs-local's ECS_LOCAL_* environment variables (standalone use, `berth ecs-local`
// and `berth up`), read by the one settings loader (settings/) and mapped onto
// the options of config.ts, which embedded use passes directly.
import { join } from 'node:path';
import { z } from 'zod';
import {
  ConfigError,
  commaList,
  durationMs,
  flag,
  integer,
  loadSettings,
  setting,
} from '../settings/index.ts';
import { bucketName, type EcsLocalOptions, parseConfig } from './config.ts';

/** The image map shipped with berth (ecs-local/images.yaml). */
const DEFAULT_IMAGE_MAP_PATH = join(import.meta.dirname, 'images.yaml');

const defaults = parseConfig({});

/** ECS_LOCAL_* (standalone use): each maps onto the option of the same meaning. */
export const ecsLocalEnvSchema = z.object({
  host: setting(z.string().min(1).default(defaults.host), {
    env: 'ECS_LOCAL_HOST',
    description: 'Address to listen on.',
  }),
  allowRemote: setting(flag().default(false), {
    env: 'ECS_LOCAL_ALLOW_REMOTE',
    description:
      'Allow a non-loopback ECS_LOCAL_HOST (ecs-local runs any command it is asked to; requests must still be signed).',
  }),
  accessKeyId: setting(z.string().min(1).optional(), {
    env: 'ECS_LOCAL_ACCESS_KEY_ID',
    shownDefault: 'a fresh random one, printed at start',
    description:
      'The access key ID every request must be signed with (SigV4); set together with ECS_LOCAL_SECRET_ACCESS_KEY.',
  }),
  secretAccessKey: setting(z.string().min(1).optional(), {
    env: 'ECS_LOCAL_SECRET_ACCESS_KEY',
    secret: true,
    shownDefault: 'a fresh random one, printed at start',
    description: 'The secret access key of that pair.',
  }),
  port: setting(integer(0, 65535).default(defaults.port), {
    env: 'ECS_LOCAL_PORT',
    description: 'TCP port; 0 picks a free one.',
  }),
  region: setting(z.string().min(1).default(defaults.region), {
    env: 'ECS_LOCAL_REGION',
    description: 'The region in ARNs and answers.',
  }),
  accountId: setting(z.string().min(1).default(defaults.accountId), {
    env: 'ECS_LOCAL_ACCOUNT_ID',
    description: 'The account ID in ARNs.',
  }),
  clusters: setting(commaList(z.string().min(1)).default(defaults.clusters), {
    env: 'ECS_LOCAL_CLUSTERS',
    shownValue: 'cluster names, comma-separated',
    description: 'Clusters that exist from the start.',
  }),
  provisioningMs: setting(durationMs(0, 600_000).default(defaults.delays.provisioningMs), {
    env: 'ECS_LOCAL_PROVISIONING_MS',
    description: 'PROVISIONING to PENDING (the ENI is created at the end of it).',
  }),
  pendingMs: setting(durationMs(0, 600_000).default(defaults.delays.pendingMs), {
    env: 'ECS_LOCAL_PENDING_MS',
    description: 'PENDING to ACTIVATING (image pull; containers start at the end of it).',
  }),
  activatingMs: setting(durationMs(0, 600_000).default(defaults.delays.activatingMs), {
    env: 'ECS_LOCAL_ACTIVATING_MS',
    description: 'ACTIVATING to RUNNING.',
  }),
  deactivatingMs: setting(durationMs(0, 600_000).default(defaults.delays.deactivatingMs), {
    env: 'ECS_LOCAL_DEACTIVATING_MS',
    description: 'DEACTIVATING to STOPPING (containers get their stop signal at STOPPING).',
  }),
  deprovisioningMs: setting(durationMs(0, 600_000).default(defaults.delays.deprovisioningMs), {
    env: 'ECS_LOCAL_DEPROVISIONING_MS',
    description: 'DEPROVISIONING to STOPPED (the ENI is released at the start of it).',
  }),
  stoppedRetentionMs: setting(durationMs(0, 7 * 86_400_000).default(defaults.stoppedRetentionMs), {
    env: 'ECS_LOCAL_STOPPED_RETENTION_MS',
    replaces: ['ECS_LOCAL_STOPPED_RETENTION_SECONDS'],
    description: 'How long STOPPED tasks stay describable (ECS: at least an hour).',
  }),
  throttling: setting(flag().default(defaults.throttling), {
    env: 'ECS_LOCAL_THROTTLING',
    description: "ECS's request rate limits (ThrottlingException past them).",
  }),
  imageMapPath: setting(z.string().min(1).default(DEFAULT_IMAGE_MAP_PATH), {
    env: 'ECS_LOCAL_IMAGE_MAP',
    shownDefault: '`ecs-local/images.yaml`',
    shownValue: 'a file path',
    description: 'The image map: which local command runs for each image.',
  }),
  defaultStopTimeoutMs: setting(
    durationMs(1000, 120_000)
      .multipleOf(1000)
      .default(defaults.defaultStopTimeoutSeconds * 1000),
    {
      env: 'ECS_LOCAL_STOP_TIMEOUT_MS',
      replaces: ['ECS_LOCAL_STOP_TIMEOUT_SECONDS'],
      description:
        'Stop timeout of a container definition that gives none (ECS: 30 s); a multiple of 1000, as ECS counts seconds.',
    },
  ),
  outputCapBytes: setting(integer(1024, 1024 ** 3).default(defaults.outputCapBytes), {
    env: 'ECS_LOCAL_OUTPUT_CAP_BYTES',
    description: 'Output kept per container (the newest bytes win).',
  }),
  addressOctet: setting(integer(0, 255).default(defaults.addressOctet), {
    env: 'ECS_LOCAL_ADDRESS_OCTET',
    description:
      'Task addresses are 127.<octet>.x.y (0: 127.0.1.1, 127.0.1.2, …); distinct values let several run at once.',
  }),
  s3Directory: setting(z.string().min(1).optional(), {
    env: 'ECS_LOCAL_S3_DIR',
    shownDefault: 'off (`berth up`: `<BERTH_DATA_DIR>/s3`)',
    shownValue: 'a folder path',
    description:
      "Turns on S3 at ecs-local's URL (path-style, IAM-checked), keeping its objects in this folder.",
  }),
  s3Buckets: setting(commaList(bucketName).default([]), {
    env: 'ECS_LOCAL_S3_BUCKETS',
    shownValue: 'bucket names, comma-separated',
    description: 'Buckets created at start (with ECS_LOCAL_S3_DIR).',
  }),
  s3CorsOrigins: setting(commaList(z.string().url()).default([]), {
    env: 'ECS_LOCAL_S3_CORS_ORIGINS',
    shownValue: 'origins, comma-separated',
    description:
      "Origins every bucket's CORS allows (GET PUT POST DELETE HEAD, any header, ETag exposed).",
  }),
  stateDir: setting(z.string().min(1).optional(), {
    env: 'ECS_LOCAL_STATE_DIR',
    shownDefault: '`.data/ecs-local` (`berth up`: `<BERTH_DATA_DIR>/ecs-local`)',
    shownValue: 'a folder path',
    description:
      'Where ecs-local records its task processes, so the next start reaps those a crashed ecs-local left running.',
  }),
  volumesDir: setting(z.string().min(1).optional(), {
    env: 'ECS_LOCAL_VOLUMES_DIR',
    shownDefault: '`<ECS_LOCAL_STATE_DIR>/volumes`',
    shownValue: 'a folder path',
    description:
      "Where each task volume's folder is made (<dir>/<taskId>/<volume>); removed when the task stops.",
  }),
  healthCheckIntervalMs: setting(durationMs(10, 300_000).optional(), {
    env: 'ECS_LOCAL_HEALTH_CHECK_INTERVAL_MS',
    shownDefault: "each health check's own interval",
    description:
      'Replaces every container health check interval (ECS allows 5 s to 300 s), for a quicker local start.',
  }),
  restartAttemptPeriodMs: setting(durationMs(0, 1_800_000).optional(), {
    env: 'ECS_LOCAL_RESTART_ATTEMPT_PERIOD_MS',
    shownDefault: "each restart policy's own period",
    description:
      'Replaces every restart policy restartAttemptPeriod (how long a container must run before it may be restarted; ECS: 60 s to 1800 s).',
  }),
  metricsPeriodMs: setting(durationMs(100, 3_600_000).default(defaults.metricsPeriodMs), {
    env: 'ECS_LOCAL_METRICS_PERIOD_MS',
    description:
      "How often each running task's CPU and memory are sampled from /proc for CloudWatch GetMetricData (ECS/ContainerInsights CpuUtilized, MemoryUtilized; Container Insights: 60 s).",
  }),
});

/** Options from ECS_LOCAL_* variables (see README); throws ConfigError naming each bad variable. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): EcsLocalOptions {
  const e = loadSettings(ecsLocalEnvSchema, env, { component: 'ecs-local' });
  if ((e.accessKeyId === undefined) !== (e.secretAccessKey === undefined)) {
    throw new ConfigError('ecs-local settings', [
      'ECS_LOCAL_ACCESS_KEY_ID and ECS_LOCAL_SECRET_ACCESS_KEY: set both or neither (neither: a fresh pair is made and printed)',
    ]);
  }
  return {
    host: e.host,
    allowRemote: e.allowRemote,
    ...(e.accessKeyId && e.secretAccessKey
      ? { credentials: { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey } }
      : {}),
    port: e.port,
    region: e.region,
    accountId: e.accountId,
    clusters: e.clusters,
    delays: {
      provisioningMs: e.provisioningMs,
      pendingMs: e.pendingMs,
      activatingMs: e.activatingMs,
      deactivatingMs: e.deactivatingMs,
      deprovisioningMs: e.deprovisioningMs,
    },
    stoppedRetentionMs: e.stoppedRetentionMs,
    throttling: e.throttling,
    imageMapPath: e.imageMapPath,
    // ECS counts stop timeouts in seconds.
    defaultStopTimeoutSeconds: e.defaultStopTimeoutMs / 1000,
    outputCapBytes: e.outputCapBytes,
    addressOctet: e.addressOctet,
    metricsPeriodMs: e.metricsPeriodMs,
    ...(e.stateDir ? { stateDir: e.stateDir } : {}),
    ...(e.volumesDir ? { volumesDir: e.volumesDir } : {}),
    ...(e.healthCheckIntervalMs === undefined
      ? {}
      : { healthCheckIntervalMs: e.healthCheckIntervalMs }),
    ...(e.restartAttemptPeriodMs === undefined
      ? {}
      : { restartAttemptPeriodMs: e.restartAttemptPeriodMs }),
    ...(e.s3Directory
      ? {
          s3: {
            directory: e.s3Directory,
            buckets: e.s3Buckets.map((name) => ({ name, corsOrigins: e.s3CorsOrigins })),
          },
        }
      : {}),
  };
}
