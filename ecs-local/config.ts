// ecs-local's configuration: one zod schema over options (embedded use), and
// ECS_LOCAL_* environment variables (standalone use) read by the one settings
// loader (settings/, which ecs-local imports as it would a library).
import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError } from '../settings/index.ts';
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

export const bucketName = z
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
  /**
   * Where task volumes' folders are made (<volumesDir>/<taskId>/<volume>); default
   * `<stateDir>/volumes` with a stateDir, else a fresh folder under the OS temp
   * folder, removed at close.
   */
  volumesDir: z.string().min(1).optional(),
  /** Replaces every health check's interval (ECS: at least 5 s), so tests need not wait. */
  healthCheckIntervalMs: z.number().int().min(10).optional(),
  /**
   * How often each running task's CPU and memory are sampled from /proc for
   * CloudWatch's Container Insights metrics (its per-minute task metrics).
   */
  metricsPeriodMs: z.number().int().min(100).max(3_600_000).default(60_000),
  /** Replaces every restart policy's restartAttemptPeriod (ECS: at least 60 s), so tests need not wait. */
  restartAttemptPeriodMs: z.number().int().min(0).optional(),
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
