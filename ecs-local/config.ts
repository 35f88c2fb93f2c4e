// ecs-local's configuration: one zod schema over options (embedded use), and
// ECS_LOCAL_* environment variables (standalone use) read by the one settings
// loader (settings/, which ecs-local imports as it would a library).
import { isIP } from 'node:net';
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
import { faultsSchema } from './faults.ts';
import { imageMapSchema } from './image-map.ts';
import { secretConfigSchema } from './secrets-manager.ts';

const ms = z.number().int().min(0);

const delaysSchema = z.strictObject({
  /** PROVISIONING -> PENDING (the ENI is created at the end of it). */
  provisioningMs: ms.default(100),
  /** PENDING -> ACTIVATING (image pull; containers start at the end of it). */
  pendingMs: ms.default(50),
  /** ACTIVATING -> RUNNING. */
  activatingMs: ms.default(50),
  /** DEACTIVATING -> STOPPING (containers get their stop signal at STOPPING). */
  deactivatingMs: ms.default(50),
  /** DEPROVISIONING -> STOPPED (the ENI is released at the start of it). */
  deprovisioningMs: ms.default(100),
});

const subnetSchema = z.strictObject({
  subnetId: z.string().regex(/^subnet-[0-9a-f]+$/),
  availabilityZone: z.string(),
  cidrBlock: z.string(),
});

const portNumber = z.number().int().min(-1).max(65535);

/** One ingress rule, shaped as EC2's IpPermission (camelCase, as in its XML). */
export const ipPermissionSchema = z.strictObject({
  /** `tcp`, `udp`, `icmp`, or `-1` (every protocol and port). */
  ipProtocol: z.string().min(1),
  fromPort: portNumber.optional(),
  toPort: portNumber.optional(),
  ipRanges: z
    .array(z.strictObject({ cidrIp: z.string(), description: z.string().optional() }))
    .default([]),
  ipv6Ranges: z
    .array(z.strictObject({ cidrIpv6: z.string(), description: z.string().optional() }))
    .default([]),
  userIdGroupPairs: z
    .array(z.strictObject({ groupId: z.string(), description: z.string().optional() }))
    .default([]),
  prefixListIds: z
    .array(z.strictObject({ prefixListId: z.string(), description: z.string().optional() }))
    .default([]),
});

export type IpPermission = z.infer<typeof ipPermissionSchema>;

const securityGroupSchema = z.strictObject({
  groupId: z.string().regex(/^sg-[0-9a-f]+$/),
  groupName: z.string(),
  description: z.string().default(''),
  /** Ingress rules (DescribeSecurityGroups' ipPermissions). */
  ipPermissions: z.array(ipPermissionSchema).default([]),
});

/** The tools' group admits the proxy's group only (any TCP port), as berth's deployment does. */
export const DEFAULT_TOOLS_SECURITY_GROUP = 'sg-0a1b2c3d4e5f60001';
export const DEFAULT_PROXY_SECURITY_GROUP = 'sg-0a1b2c3d4e5f60002';

const networkSchema = z.strictObject({
  vpcId: z
    .string()
    .regex(/^vpc-[0-9a-f]+$/)
    .default('vpc-0a1b2c3d4e5f60001'),
  vpcCidr: z.string().default('10.0.0.0/16'),
  subnets: z
    .array(subnetSchema)
    .min(1)
    .default([
      { subnetId: 'subnet-0a1b2c3d4e5f60001', availabilityZone: 'a', cidrBlock: '10.0.0.0/20' },
      { subnetId: 'subnet-0a1b2c3d4e5f60002', availabilityZone: 'b', cidrBlock: '10.0.16.0/20' },
    ]),
  securityGroups: z
    .array(securityGroupSchema)
    .min(1)
    .default([
      {
        groupId: DEFAULT_TOOLS_SECURITY_GROUP,
        groupName: 'berth-tools',
        description: 'berth tools: reachable from the proxy only',
        ipPermissions: [
          {
            ipProtocol: 'tcp',
            fromPort: 0,
            toPort: 65535,
            ipRanges: [],
            ipv6Ranges: [],
            userIdGroupPairs: [{ groupId: DEFAULT_PROXY_SECURITY_GROUP }],
            prefixListIds: [],
          },
        ],
      },
      {
        groupId: DEFAULT_PROXY_SECURITY_GROUP,
        groupName: 'berth-proxy',
        description: 'the berth proxy',
        ipPermissions: [],
      },
    ]),
});

const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'a bucket name: 3 to 63 of a-z 0-9 . -');

const s3Schema = z.strictObject({
  /** Where s3rver keeps its buckets and objects (survives restarts). */
  directory: z.string().min(1),
  /** Buckets created at start, each with the origins its CORS allows. */
  buckets: z
    .array(z.strictObject({ name: bucketName, corsOrigins: z.array(z.string().url()).default([]) }))
    .default([]),
});

const configSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  /** Listen on a non-loopback `host` (anyone who can reach it may try to drive it; SigV4 still applies). */
  allowRemote: z.boolean().default(false),
  /**
   * The access key pair every AWS API request must be signed with; a fresh random
   * pair when absent (see `EcsLocal.credentials`).
   */
  credentials: z
    .strictObject({
      accessKeyId: z.string().regex(/^[A-Za-z0-9]{4,128}$/, 'must be 4 to 128 letters and digits'),
      secretAccessKey: z.string().min(8, 'must be at least 8 characters'),
    })
    .optional(),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(4566),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
    .default('eu-west-2'),
  accountId: z
    .string()
    .regex(/^\d{12}$/)
    .default('000000000000'),
  /** Clusters that exist from the start (ECS has no implicit "default" cluster; we create it). */
  clusters: z.array(z.string()).default(['default']),
  delays: delaysSchema.default(delaysSchema.parse({})),
  /** How long STOPPED tasks stay describable (ECS: at least an hour). */
  stoppedRetentionMs: ms.default(3_600_000),
  throttling: z.boolean().default(true),
  /** Path of an image map YAML file; its entries merge with `imageMap`. */
  imageMapPath: z.string().optional(),
  imageMap: imageMapSchema.default({}),
  /** Default stop timeout when a container definition gives none (ECS: 30 s). */
  defaultStopTimeoutSeconds: z.number().int().min(1).max(120).default(30),
  /** Output kept per container (the newest bytes win). */
  outputCapBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Task addresses are 127.<addressOctet>.x.y; choose distinct values to run several instances. */
  addressOctet: z.number().int().min(0).max(255).default(0),
  /**
   * Where records of running task processes are kept, so that the next start
   * kills what an ecs-local that died uncleanly left running; none when absent.
   */
  stateDir: z.string().min(1).optional(),
  network: networkSchema.default(networkSchema.parse({})),
  faults: faultsSchema.default(faultsSchema.parse({})),
  /** Secrets Manager's secrets from the start (more through PUT /_ecs-local/secrets/<name>). */
  secrets: z.array(secretConfigSchema).default([]),
  /** S3 on ecs-local's own URL (s3rver in-process, behind IAM checks); off when absent. */
  s3: s3Schema.optional(),
  /** How long a task's role session credentials last (a new pair on each fetch). */
  credentialsTtlMs: z
    .number()
    .int()
    .min(60_000)
    .max(12 * 3_600_000)
    .default(3_600_000),
  /**
   * Managed policies IAM knows, usable only as a role's permissions boundary
   * (`arn:aws:iam::<account>:policy/<name>`); a role naming any other is refused.
   */
  managedPolicies: z
    .array(z.strictObject({ name: z.string().regex(/^[\w+=,.@-]{1,128}$/), document: z.string() }))
    .default([]),
});

export type EcsLocalConfig = z.infer<typeof configSchema>;
export type EcsLocalOptions = z.input<typeof configSchema>;

/** Validates embedded options; throws ConfigError naming each bad option. */
export function parseConfig(options: EcsLocalOptions = {}): EcsLocalConfig {
  const result = configSchema.safeParse(options);
  if (!result.success) {
    throw new ConfigError(
      'ecs-local options',
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const config = result.data;
  if (!config.allowRemote && !isLoopbackHost(config.host)) {
    throw new ConfigError('ecs-local options', [
      `host (ECS_LOCAL_HOST): ${config.host} is not a loopback address; ecs-local runs any command it is asked to, so it listens on loopback only (127.0.0.1, ::1, localhost) unless allowRemote (ECS_LOCAL_ALLOW_REMOTE=true) says otherwise`,
    ]);
  }
  return config;
}

/** 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) or localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** The image map shipped with berth (ecs-local/images.yaml). */
const DEFAULT_IMAGE_MAP_PATH = join(import.meta.dirname, 'images.yaml');

const defaults = configSchema.parse({});

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
    ...(e.stateDir ? { stateDir: e.stateDir } : {}),
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
