// The ECS driver's settings, read by the one settings loader (settings/). Against
// real AWS every field comes from the environment; against ecs-local only
// BERTH_ECS_ENDPOINT and its key pair (plus subnets and security groups) are needed.
import { z } from 'zod';
import {
  ConfigError,
  commaList,
  durationMs,
  flag,
  integer,
  loadSettings,
  setting,
} from '../../settings/index.ts';

const region = () => z.string().min(1).optional();

export const ecsConfigSchema = z.object({
  region: setting(region(), {
    env: 'BERTH_ECS_REGION',
    shownDefault: '`AWS_REGION`, else `AWS_DEFAULT_REGION`; `us-east-1` with an endpoint override',
    description: 'AWS region of the ECS cluster.',
  }),
  awsRegion: setting(region(), {
    env: 'AWS_REGION',
    description: "The AWS SDK's region, used when BERTH_ECS_REGION is not set.",
  }),
  awsDefaultRegion: setting(region(), {
    env: 'AWS_DEFAULT_REGION',
    description: 'Used when neither BERTH_ECS_REGION nor AWS_REGION is set.',
  }),
  cluster: setting(
    z
      .string()
      .regex(
        /^[A-Za-z0-9_-]{1,255}$|^arn:/,
        'must be a cluster name (letters, digits, "-" and "_") or a cluster ARN',
      )
      .default('default'),
    { env: 'BERTH_ECS_CLUSTER', description: 'Cluster name or ARN.' },
  ),
  subnets: setting(
    commaList(
      z.string().regex(/^subnet-[0-9a-zA-Z]+$/, 'each subnet must look like "subnet-0abc123"'),
    )
      .pipe(z.array(z.string()).max(16))
      .default([]),
    {
      env: 'BERTH_ECS_SUBNETS',
      shownValue: 'subnet IDs, comma-separated (up to 16)',
      description: "Subnets for the tasks' network interfaces.",
    },
  ),
  securityGroups: setting(
    commaList(
      z.string().regex(/^sg-[0-9a-zA-Z]+$/, 'each security group must look like "sg-0abc123"'),
    )
      .pipe(z.array(z.string()).max(5))
      .default([]),
    {
      env: 'BERTH_ECS_SECURITY_GROUPS',
      shownValue: 'security group IDs, comma-separated (up to 5)',
      description: "Security groups of the tasks' network interfaces.",
    },
  ),
  endpoint: setting(z.url({ error: 'must be a URL such as http://127.0.0.1:4566' }).optional(), {
    env: 'BERTH_ECS_ENDPOINT',
    shownDefault: 'AWS',
    description: "ECS endpoint override, e.g. ecs-local's `http://127.0.0.1:4566`.",
  }),
  accessKeyId: setting(z.string().min(1).optional(), {
    env: 'BERTH_ECS_ACCESS_KEY_ID',
    shownDefault: "the AWS SDK's default credential chain",
    description:
      "Access key ID for ECS and EC2 calls: ecs-local's key pair (berth up sets it); set together with BERTH_ECS_SECRET_ACCESS_KEY.",
  }),
  secretAccessKey: setting(z.string().min(1).optional(), {
    env: 'BERTH_ECS_SECRET_ACCESS_KEY',
    secret: true,
    shownDefault: "the AWS SDK's default credential chain",
    description: 'The secret access key of that pair.',
  }),
  proxySecurityGroup: setting(
    z
      .string()
      .regex(/^sg-[0-9a-zA-Z]+$/, 'must look like "sg-0abc123"')
      .optional(),
    {
      env: 'BERTH_PROXY_SECURITY_GROUP',
      description:
        "The berth proxy's security group: the preflight warns when no rule of the tools' groups admits it on the tool ports.",
    },
  ),
  ec2Endpoint: setting(z.url({ error: 'must be a URL such as http://127.0.0.1:4566' }).optional(), {
    env: 'BERTH_EC2_ENDPOINT',
    shownDefault: '`BERTH_ECS_ENDPOINT`',
    description: 'EC2 endpoint override (ecs-local answers both).',
  }),
  secretsManagerEndpoint: setting(
    z.url({ error: 'must be a URL such as http://127.0.0.1:4566' }).optional(),
    {
      env: 'BERTH_SECRETS_MANAGER_ENDPOINT',
      shownDefault: '`BERTH_ECS_ENDPOINT`',
      description:
        "Secrets Manager endpoint override, where Databases' admin credentials may live (ecs-local answers it too).",
    },
  ),
  cloudwatchEndpoint: setting(
    z.url({ error: 'must be a URL such as http://127.0.0.1:4566' }).optional(),
    {
      env: 'BERTH_CLOUDWATCH_ENDPOINT',
      shownDefault: '`BERTH_ECS_ENDPOINT`',
      description:
        "CloudWatch endpoint override, where the culler reads ECS task stats (Container Insights' CpuUtilized) of tools without a metrics sidecar (ecs-local answers it too).",
    },
  ),
  assignPublicIp: setting(
    z.enum(['ENABLED', 'DISABLED'], { error: 'must be ENABLED or DISABLED' }).default('DISABLED'),
    {
      env: 'BERTH_ECS_ASSIGN_PUBLIC_IP',
      description: 'ENABLED only for public subnets without NAT.',
    },
  ),
  platformVersion: setting(z.string().min(1).default('LATEST'), {
    env: 'BERTH_ECS_PLATFORM_VERSION',
    description: 'Fargate platform version.',
  }),
  capacityProvider: setting(
    z
      .enum(['FARGATE', 'FARGATE_SPOT'], { error: 'must be FARGATE or FARGATE_SPOT' })
      .default('FARGATE'),
    {
      env: 'BERTH_ECS_CAPACITY_PROVIDER',
      description: 'The default capacity provider (a ToolDefinition may ask for either per task).',
    },
  ),
  installationId: setting(
    z
      .string()
      .regex(
        /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/,
        'must be 1 to 40 lowercase letters, digits and "-" (it goes into startedBy and tags)',
      )
      .default('local'),
    {
      env: 'BERTH_INSTALLATION_ID',
      description:
        "Names this installation: tasks get `startedBy: berth-<id>` and the tag `berth:installation=<id>`, so two installations sharing a cluster never reap each other's tasks.",
    },
  ),
  maxAttempts: setting(integer(1, 20).default(5), {
    env: 'BERTH_ECS_MAX_ATTEMPTS',
    description: 'SDK attempts per call (throttling and 5xx are retried, other 4xx are not).',
  }),
  describeWindowMs: setting(durationMs(0, 1000).default(2), {
    env: 'BERTH_ECS_DESCRIBE_WINDOW_MS',
    description:
      'How long describe calls are collected before one DescribeTasks goes out (0: one event-loop turn).',
  }),
  clientThrottle: setting(flag().default(true), {
    env: 'BERTH_ECS_CLIENT_THROTTLE',
    description: 'The client-side token buckets (switch off only for benchmarks).',
  }),
});

export type AssignPublicIp = 'ENABLED' | 'DISABLED';
export type CapacityProvider = 'FARGATE' | 'FARGATE_SPOT';

export interface EcsDriverConfig {
  region: string;
  cluster: string;
  subnets: string[];
  securityGroups: string[];
  /** ECS endpoint override (ecs-local); absent means the real AWS endpoint. */
  endpoint?: string;
  /** EC2 endpoint override; defaults to `endpoint` (ecs-local answers both). */
  ec2Endpoint?: string;
  /** Secrets Manager endpoint override; defaults to `endpoint`. */
  secretsManagerEndpoint?: string;
  /** CloudWatch endpoint override (Container Insights' task metrics); defaults to `endpoint`. */
  cloudwatchEndpoint?: string;
  /** Static credentials (ecs-local's key pair); absent: the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** The proxy's security group, which the tools' groups should admit on the tool ports. */
  proxySecurityGroup?: string;
  assignPublicIp: AssignPublicIp;
  platformVersion: string;
  capacityProvider: CapacityProvider;
  /** Identifies this berth installation in startedBy and tags, so two installations sharing a cluster never reap each other's tasks. */
  installationId: string;
  /** SDK attempts per call (throttling and 5xx are retried, other 4xx are not). */
  maxAttempts: number;
  /** How long DescribeTasks calls are collected before one batched call goes out. */
  describeWindowMs: number;
  /** Client-side token buckets; on unless switched off. */
  clientThrottle: boolean;
}

/** Reads the driver's settings; throws ConfigError naming each bad variable. */
export function loadEcsConfig(
  env: Record<string, string | undefined> = process.env,
): EcsDriverConfig {
  const { awsRegion, awsDefaultRegion, accessKeyId, secretAccessKey, ...e } = loadSettings(
    ecsConfigSchema,
    env,
    { component: 'ECS driver' },
  );
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError('ECS driver settings', [
      'BERTH_ECS_ACCESS_KEY_ID and BERTH_ECS_SECRET_ACCESS_KEY: set both or neither (neither: the AWS SDK finds credentials itself)',
    ]);
  }
  const region =
    e.region ?? awsRegion ?? awsDefaultRegion ?? (e.endpoint ? 'us-east-1' : undefined);
  if (!region) {
    throw new ConfigError('ECS driver settings', [
      'BERTH_ECS_REGION: no AWS region set; set BERTH_ECS_REGION (or AWS_REGION), e.g. eu-west-2, or, to try berth without AWS, start ecs-local (bin/berth ecs-local) and set BERTH_ECS_ENDPOINT to the address it prints',
    ]);
  }
  return {
    ...e,
    region,
    ec2Endpoint: e.ec2Endpoint ?? e.endpoint,
    secretsManagerEndpoint: e.secretsManagerEndpoint ?? e.endpoint,
    cloudwatchEndpoint: e.cloudwatchEndpoint ?? e.endpoint,
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  };
}

/** The startedBy value of every task this installation launches (ECS allows letters, digits, "-", "_" and "/"). */
export function installationStartedBy(installationId: string): string {
  return `berth-${installationId}`;
}
