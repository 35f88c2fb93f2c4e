// ecs-local's configuration: one zod schema over options (embedded use) and
// ECS_LOCAL_* environment variables (standalone use), with clear errors.
import { join } from 'node:path';
import { z } from 'zod';
import { faultsSchema } from './faults.ts';
import { imageMapSchema } from './image-map.ts';

const ms = z.number().int().min(0);

export const delaysSchema = z.strictObject({
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

export const subnetSchema = z.strictObject({
  subnetId: z.string().regex(/^subnet-[0-9a-f]+$/),
  availabilityZone: z.string(),
  cidrBlock: z.string(),
});

export const securityGroupSchema = z.strictObject({
  groupId: z.string().regex(/^sg-[0-9a-f]+$/),
  groupName: z.string(),
  description: z.string().default(''),
});

export const networkSchema = z.strictObject({
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
        groupId: 'sg-0a1b2c3d4e5f60001',
        groupName: 'default',
        description: 'default VPC security group',
      },
    ]),
});

export const configSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
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
});

export type EcsLocalConfig = z.infer<typeof configSchema>;
export type EcsLocalOptions = z.input<typeof configSchema>;

export function parseConfig(options: EcsLocalOptions = {}): EcsLocalConfig {
  const result = configSchema.safeParse(options);
  if (!result.success) {
    const detail = result.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`ecs-local: invalid configuration: ${detail}`);
  }
  return result.data;
}

const envNumber = (env: NodeJS.ProcessEnv, name: string): number | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n))
    throw new Error(`ecs-local: ${name} must be a number, got ${JSON.stringify(raw)}`);
  return n;
};

const envBool = (env: NodeJS.ProcessEnv, name: string): boolean | undefined => {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new Error(`ecs-local: ${name} must be true or false, got ${JSON.stringify(raw)}`);
};

/** The image map shipped with berth (ecs-local/images.yaml). */
export const DEFAULT_IMAGE_MAP_PATH = join(import.meta.dirname, 'images.yaml');

/** Options from ECS_LOCAL_* variables (see README); undefined ones take the defaults. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): EcsLocalOptions {
  const delays = {
    provisioningMs: envNumber(env, 'ECS_LOCAL_PROVISIONING_MS'),
    pendingMs: envNumber(env, 'ECS_LOCAL_PENDING_MS'),
    activatingMs: envNumber(env, 'ECS_LOCAL_ACTIVATING_MS'),
    deactivatingMs: envNumber(env, 'ECS_LOCAL_DEACTIVATING_MS'),
    deprovisioningMs: envNumber(env, 'ECS_LOCAL_DEPROVISIONING_MS'),
  };
  const retentionSeconds = envNumber(env, 'ECS_LOCAL_STOPPED_RETENTION_SECONDS');
  const options: Record<string, unknown> = {
    host: env.ECS_LOCAL_HOST || undefined,
    port: envNumber(env, 'ECS_LOCAL_PORT'),
    region: env.ECS_LOCAL_REGION || undefined,
    accountId: env.ECS_LOCAL_ACCOUNT_ID || undefined,
    clusters: env.ECS_LOCAL_CLUSTERS
      ? env.ECS_LOCAL_CLUSTERS.split(',').map((s) => s.trim())
      : undefined,
    delays: Object.fromEntries(Object.entries(delays).filter(([, v]) => v !== undefined)),
    stoppedRetentionMs: retentionSeconds === undefined ? undefined : retentionSeconds * 1000,
    throttling: envBool(env, 'ECS_LOCAL_THROTTLING'),
    imageMapPath: env.ECS_LOCAL_IMAGE_MAP || DEFAULT_IMAGE_MAP_PATH,
    defaultStopTimeoutSeconds: envNumber(env, 'ECS_LOCAL_STOP_TIMEOUT_SECONDS'),
    outputCapBytes: envNumber(env, 'ECS_LOCAL_OUTPUT_CAP_BYTES'),
    addressOctet: envNumber(env, 'ECS_LOCAL_ADDRESS_OCTET'),
    stateDir: env.ECS_LOCAL_STATE_DIR || undefined,
  };
  return Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as EcsLocalOptions;
}
