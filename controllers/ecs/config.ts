// The ECS driver's configuration, read from environment variables by one zod
// schema. Against real AWS every field comes from the environment; against
// ecs-local only BERTH_ECS_ENDPOINT (plus subnets and security groups) is needed.
import { z } from 'zod';

const commaList = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  );

const onOff = z
  .enum(['on', 'off', 'true', 'false', '1', '0'], { error: 'must be "on" or "off"' })
  .optional();

const envSchema = z
  .object({
    BERTH_ECS_REGION: z.string().min(1).optional(),
    AWS_REGION: z.string().min(1).optional(),
    AWS_DEFAULT_REGION: z.string().min(1).optional(),
    BERTH_ECS_CLUSTER: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]{1,255}$|^arn:/,
        'must be a cluster name (letters, digits, "-" and "_") or a cluster ARN',
      )
      .default('default'),
    BERTH_ECS_SUBNETS: commaList.pipe(
      z
        .array(
          z.string().regex(/^subnet-[0-9a-zA-Z]+$/, 'each subnet must look like "subnet-0abc123"'),
        )
        .max(16),
    ),
    BERTH_ECS_SECURITY_GROUPS: commaList.pipe(
      z
        .array(
          z.string().regex(/^sg-[0-9a-zA-Z]+$/, 'each security group must look like "sg-0abc123"'),
        )
        .max(5),
    ),
    BERTH_ECS_ENDPOINT: z.url({ error: 'must be a URL such as http://127.0.0.1:4566' }).optional(),
    BERTH_EC2_ENDPOINT: z.url({ error: 'must be a URL such as http://127.0.0.1:4566' }).optional(),
    BERTH_ECS_ASSIGN_PUBLIC_IP: z
      .enum(['ENABLED', 'DISABLED'], { error: 'must be ENABLED or DISABLED' })
      .default('DISABLED'),
    BERTH_ECS_PLATFORM_VERSION: z.string().min(1).default('LATEST'),
    BERTH_ECS_CAPACITY_PROVIDER: z
      .enum(['FARGATE', 'FARGATE_SPOT'], { error: 'must be FARGATE or FARGATE_SPOT' })
      .default('FARGATE'),
    BERTH_INSTALLATION_ID: z
      .string()
      .regex(
        /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/,
        'must be 1 to 40 lowercase letters, digits and "-" (it goes into startedBy and tags)',
      )
      .default('local'),
    BERTH_ECS_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    BERTH_ECS_DESCRIBE_WINDOW_MS: z.coerce.number().int().min(0).max(1000).default(2),
    BERTH_ECS_CLIENT_THROTTLE: onOff,
  })
  .loose();

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

export class EcsConfigError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`invalid ECS driver configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'EcsConfigError';
    this.issues = issues;
  }
}

/** Parses the driver's configuration from environment variables; throws EcsConfigError naming each bad variable. */
export function loadEcsConfig(
  env: Record<string, string | undefined> = process.env,
): EcsDriverConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new EcsConfigError(
      parsed.error.issues.map((i) => {
        const field = i.path.filter((p) => typeof p === 'string').join('.');
        const index = i.path.find((p) => typeof p === 'number');
        return `${field}${index === undefined ? '' : ` (item ${index + 1})`}: ${i.message}`;
      }),
    );
  }
  const e = parsed.data;
  const endpoint = e.BERTH_ECS_ENDPOINT;
  const region =
    e.BERTH_ECS_REGION ??
    e.AWS_REGION ??
    e.AWS_DEFAULT_REGION ??
    (endpoint ? 'us-east-1' : undefined);
  if (!region) {
    throw new EcsConfigError([
      'BERTH_ECS_REGION: no AWS region set; set BERTH_ECS_REGION (or AWS_REGION), e.g. eu-west-2, or, to try berth without AWS, start ecs-local (bin/berth ecs-local) and set BERTH_ECS_ENDPOINT to the address it prints',
    ]);
  }
  return {
    region,
    cluster: e.BERTH_ECS_CLUSTER,
    subnets: e.BERTH_ECS_SUBNETS,
    securityGroups: e.BERTH_ECS_SECURITY_GROUPS,
    endpoint,
    ec2Endpoint: e.BERTH_EC2_ENDPOINT ?? endpoint,
    assignPublicIp: e.BERTH_ECS_ASSIGN_PUBLIC_IP,
    platformVersion: e.BERTH_ECS_PLATFORM_VERSION,
    capacityProvider: e.BERTH_ECS_CAPACITY_PROVIDER,
    installationId: e.BERTH_INSTALLATION_ID,
    maxAttempts: e.BERTH_ECS_MAX_ATTEMPTS,
    describeWindowMs: e.BERTH_ECS_DESCRIBE_WINDOW_MS,
    clientThrottle: !['off', 'false', '0'].includes(e.BERTH_ECS_CLIENT_THROTTLE ?? 'on'),
  };
}

/** The startedBy value of every task this installation launches (ECS allows letters, digits, "-", "_" and "/"). */
export function installationStartedBy(installationId: string): string {
  return `berth-${installationId}`;
}
