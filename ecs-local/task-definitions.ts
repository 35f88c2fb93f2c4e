// Task definitions: families of immutable revisions, as ECS keeps them.
import { z } from 'zod';
import type { Arns } from './arns.ts';
import { checkDependencies, dependencySchema } from './container-dependencies.ts';
import { checkHealthCheck, healthCheckSchema, withHealthCheckDefaults } from './health-checks.ts';
import { clientError, compact, epochSeconds } from './protocol.ts';
import { checkRestartPolicy, restartPolicySchema } from './restart-policy.ts';
import { type Tag, tagSchema, validateTags } from './tags.ts';
import { checkVolumes, mountPointSchema, volumeSchema } from './volumes.ts';

const keyValue = z.object({ name: z.string(), value: z.string() });

const containerDefinitionSchema = z.looseObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,255}$/, 'letters, numbers, hyphens and underscores, up to 255'),
  image: z.string().min(1),
  cpu: z.number().int().min(0).optional(),
  memory: z.number().int().min(6).optional(),
  memoryReservation: z.number().int().min(6).optional(),
  essential: z.boolean().optional(),
  command: z.array(z.string()).optional(),
  entryPoint: z.array(z.string()).optional(),
  environment: z.array(keyValue).optional(),
  workingDirectory: z.string().optional(),
  portMappings: z
    .array(
      z.looseObject({
        containerPort: z.number().int().min(1).max(65535).optional(),
        hostPort: z.number().int().min(0).max(65535).optional(),
        protocol: z.enum(['tcp', 'udp']).optional(),
        name: z.string().optional(),
      }),
    )
    .optional(),
  stopTimeout: z.number().int().min(2).max(120).optional(),
  dependsOn: z.array(dependencySchema).optional(),
  healthCheck: healthCheckSchema.optional(),
  restartPolicy: restartPolicySchema.optional(),
  mountPoints: z.array(mountPointSchema).optional(),
});
export type ContainerDefinition = z.infer<typeof containerDefinitionSchema>;

export const registerSchema = z.looseObject({
  family: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,255}$/, 'letters, numbers, hyphens and underscores, up to 255'),
  containerDefinitions: z.array(containerDefinitionSchema).min(1),
  cpu: z.string().optional(),
  memory: z.string().optional(),
  networkMode: z.enum(['bridge', 'host', 'awsvpc', 'none']).optional(),
  requiresCompatibilities: z
    .array(z.enum(['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES']))
    .optional(),
  taskRoleArn: z.string().optional(),
  executionRoleArn: z.string().optional(),
  volumes: z.array(volumeSchema).optional(),
  tags: z.array(tagSchema).optional(),
});

export interface TaskDefinitionRecord {
  arn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE';
  /** The definition as ECS would echo it (defaults filled in). */
  body: Record<string, unknown>;
  containers: ContainerDefinition[];
  cpu: string | undefined;
  memory: string | undefined;
  tags: Tag[];
  registeredAt: number;
  deregisteredAt: number | undefined;
}

// Fargate's task-size table: CPU units -> allowed memory in MiB.
const FARGATE_SIZES: Record<number, (mem: number) => boolean> = {
  256: (m) => [512, 1024, 2048].includes(m),
  512: (m) => m >= 1024 && m <= 4096 && m % 1024 === 0,
  1024: (m) => m >= 2048 && m <= 8192 && m % 1024 === 0,
  2048: (m) => m >= 4096 && m <= 16384 && m % 1024 === 0,
  4096: (m) => m >= 8192 && m <= 30720 && m % 1024 === 0,
  8192: (m) => m >= 16384 && m <= 61440 && m % 4096 === 0,
  16384: (m) => m >= 32768 && m <= 122880 && m % 8192 === 0,
};

/** "1 vCPU" / "1024" -> 1024; "2 GB" / "2048" -> 2048. */
export function cpuUnits(v: string): number {
  const m = /^\s*([\d.]+)\s*vcpu\s*$/i.exec(v);
  return m ? Math.round(Number(m[1]) * 1024) : Number(v);
}
export function memoryMiB(v: string): number {
  const m = /^\s*([\d.]+)\s*gb\s*$/i.exec(v);
  return m ? Math.round(Number(m[1]) * 1024) : Number(v);
}

export function checkFargateSize(cpu: string, memory: string): void {
  const c = cpuUnits(cpu);
  const m = memoryMiB(memory);
  const fits = FARGATE_SIZES[c];
  if (!fits?.(m)) {
    throw clientError(
      `No Fargate configuration exists for given values: ${cpu} CPU, ${memory} memory. See the Amazon ECS documentation for the valid values.`,
    );
  }
}

export class TaskDefinitions {
  private readonly families = new Map<string, TaskDefinitionRecord[]>();
  private readonly arns: Arns;
  constructor(arns: Arns) {
    this.arns = arns;
  }

  register(input: z.infer<typeof registerSchema>): TaskDefinitionRecord {
    const fargate = input.requiresCompatibilities?.includes('FARGATE') ?? false;
    if (fargate) {
      if (input.networkMode !== 'awsvpc') {
        throw clientError("Fargate only supports network mode 'awsvpc'.");
      }
      if (!input.cpu)
        throw clientError("Fargate requires that 'cpu' be defined at the task level.");
      if (!input.memory)
        throw clientError("Fargate requires that 'memory' be defined at the task level.");
      checkFargateSize(input.cpu, input.memory);
    }
    const names = new Set<string>();
    for (const c of input.containerDefinitions) {
      if (names.has(c.name)) throw clientError(`Duplicate container name: ${c.name}`);
      names.add(c.name);
      if (!input.memory && c.memory === undefined && c.memoryReservation === undefined) {
        throw clientError(
          `Invalid setting for container '${c.name}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
        );
      }
    }
    if (!input.containerDefinitions.some((c) => c.essential !== false)) {
      throw clientError('Task definition must have at least one essential container.');
    }
    for (const c of input.containerDefinitions) {
      checkHealthCheck(c.name, c.healthCheck);
      checkRestartPolicy(c.name, c.restartPolicy);
    }
    checkDependencies(input.containerDefinitions);
    checkVolumes(input.volumes ?? [], input.containerDefinitions, fargate);
    const tags = input.tags?.map((t) => ({ key: t.key, value: t.value })) ?? [];
    validateTags(tags);
    const list = this.families.get(input.family) ?? [];
    const revision = list.length + 1;
    const arn = this.arns.taskDefinition(input.family, revision);
    const containers = input.containerDefinitions.map((c) =>
      withContainerDefaults(c, input.networkMode),
    );
    const { tags: _tags, ...rest } = input;
    const now = Date.now();
    const record: TaskDefinitionRecord = {
      arn,
      family: input.family,
      revision,
      status: 'ACTIVE',
      body: {
        ...rest,
        taskDefinitionArn: arn,
        containerDefinitions: containers,
        revision,
        volumes: rest.volumes ?? [],
        placementConstraints: rest.placementConstraints ?? [],
        requiresAttributes: [],
        compatibilities: ['EC2', 'FARGATE'],
      },
      containers,
      cpu: input.cpu,
      memory: input.memory,
      tags,
      registeredAt: now,
      deregisteredAt: undefined,
    };
    list.push(record);
    this.families.set(input.family, list);
    return record;
  }

  /** "family", "family:revision" or a full ARN; a bare family means its latest ACTIVE revision. */
  find(ref: string): TaskDefinitionRecord | undefined {
    const arnMatch = /^arn:aws[\w-]*:ecs:[^:]+:\d{12}:task-definition\/(.+)$/.exec(ref);
    const short = arnMatch ? arnMatch[1]! : ref;
    const m = /^([A-Za-z0-9_-]+)(?::(\d+))?$/.exec(short);
    if (!m) return undefined;
    const list = this.families.get(m[1]!);
    if (!list) return undefined;
    if (m[2] !== undefined) return list[Number(m[2]) - 1];
    return list.findLast((r) => r.status === 'ACTIVE');
  }

  deregister(ref: string): TaskDefinitionRecord {
    if (!/:\d+$/.test(ref)) {
      throw clientError(
        'Revision must be specified: use family:revision or a full task definition ARN.',
      );
    }
    const record = this.find(ref);
    if (!record) throw clientError('The specified task definition does not exist.');
    if (record.status === 'ACTIVE') {
      record.status = 'INACTIVE';
      record.deregisteredAt = Date.now();
    }
    return record;
  }

  /** All revisions, in registration order, optionally of one family and one status. */
  list(family: string | undefined, status: 'ACTIVE' | 'INACTIVE'): TaskDefinitionRecord[] {
    const lists =
      family === undefined ? [...this.families.values()] : [this.families.get(family) ?? []];
    return lists.flat().filter((r) => r.status === status);
  }

  describe(record: TaskDefinitionRecord): Record<string, unknown> {
    return compact({
      ...record.body,
      status: record.status,
      registeredAt: epochSeconds(record.registeredAt),
      deregisteredAt: epochSeconds(record.deregisteredAt),
    });
  }
}

function withContainerDefaults(
  c: ContainerDefinition,
  networkMode: string | undefined,
): ContainerDefinition {
  return {
    ...c,
    cpu: c.cpu ?? 0,
    essential: c.essential ?? true,
    environment: c.environment ?? [],
    mountPoints: c.mountPoints ?? [],
    ...(c.healthCheck ? { healthCheck: withHealthCheckDefaults(c.healthCheck) } : {}),
    volumesFrom: (c.volumesFrom as unknown[] | undefined) ?? [],
    portMappings: (c.portMappings ?? []).map((p) => ({
      ...p,
      // awsvpc: the host port is the container port.
      hostPort: networkMode === 'awsvpc' ? p.containerPort : p.hostPort,
      protocol: p.protocol ?? 'tcp',
    })),
  };
}
