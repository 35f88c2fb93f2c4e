// RunTask, StopTask, DescribeTasks, ListTasks, with the limits and rules ECS documents.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { clusterName, taskIdFrom } from './arns.ts';
import type { EcsContext, Handler } from './context.ts';
import { page } from './pagination.ts';
import { clientError, conflict, invalidParameter } from './protocol.ts';
import { type Tag, tagSchema, validateTags } from './tags.ts';
import { checkFargateSize } from './task-definitions.ts';
import type { TaskRecord } from './task-record.ts';
import { parseInput } from './validation.ts';

const keyValue = z.object({ name: z.string(), value: z.string() });

const runTaskSchema = z.looseObject({
  cluster: z.string().optional(),
  taskDefinition: z.string().min(1),
  count: z.number().int().optional(),
  startedBy: z.string().optional(),
  group: z.string().optional(),
  launchType: z.enum(['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES']).optional(),
  capacityProviderStrategy: z
    .array(
      z.object({
        capacityProvider: z.string(),
        weight: z.number().optional(),
        base: z.number().optional(),
      }),
    )
    .optional(),
  networkConfiguration: z
    .object({
      awsvpcConfiguration: z.object({
        subnets: z.array(z.string()),
        securityGroups: z.array(z.string()).optional(),
        assignPublicIp: z.enum(['ENABLED', 'DISABLED']).optional(),
      }),
    })
    .optional(),
  overrides: z
    .looseObject({
      containerOverrides: z
        .array(
          z.looseObject({
            name: z.string(),
            command: z.array(z.string()).optional(),
            environment: z.array(keyValue).optional(),
            cpu: z.number().int().min(0).optional(),
            memory: z.number().int().min(6).optional(),
            memoryReservation: z.number().int().min(6).optional(),
          }),
        )
        .optional(),
      cpu: z.string().optional(),
      memory: z.string().optional(),
      taskRoleArn: z.string().optional(),
    })
    .optional(),
  platformVersion: z.string().optional(),
  propagateTags: z.enum(['TASK_DEFINITION', 'SERVICE', 'NONE']).optional(),
  tags: z.array(tagSchema).optional(),
  clientToken: z.string().optional(),
});

const stopTaskSchema = z.object({
  cluster: z.string().optional(),
  task: z.string().min(1),
  reason: z.string().max(255).optional(),
});

const describeTasksSchema = z.object({
  cluster: z.string().optional(),
  tasks: z.array(z.string()),
  include: z.array(z.enum(['TAGS'])).optional(),
});

const listTasksSchema = z.object({
  cluster: z.string().optional(),
  containerInstance: z.string().optional(),
  family: z.string().optional(),
  nextToken: z.string().optional(),
  maxResults: z.number().int().optional(),
  startedBy: z.string().optional(),
  serviceName: z.string().optional(),
  desiredStatus: z.enum(['RUNNING', 'PENDING', 'STOPPED']).optional(),
  launchType: z.enum(['EC2', 'FARGATE', 'EXTERNAL', 'MANAGED_INSTANCES']).optional(),
});

const CAPACITY_REASON =
  'Capacity is unavailable at this time. Please try again later or in a different availability zone';

/** Same request (ignoring the token itself) -> same fingerprint; key order does not matter. */
function fingerprint(value: unknown): string {
  const canon = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canon);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return createHash('sha256')
    .update(JSON.stringify(canon(value)))
    .digest('hex');
}

export const runTask: Handler = (ctx: EcsContext, body) => {
  const input = parseInput(runTaskSchema, body);
  const count = input.count ?? 1;
  if (count < 1 || count > 10) throw invalidParameter('count must be between 1 and 10.');
  if (input.startedBy !== undefined && input.startedBy.length > 128) {
    throw invalidParameter('startedBy must be at most 128 characters.');
  }
  if (
    input.clientToken !== undefined &&
    (input.clientToken.length < 1 || input.clientToken.length > 64)
  ) {
    throw invalidParameter('clientToken must be between 1 and 64 characters.');
  }
  const tags: Tag[] = input.tags?.map((t) => ({ key: t.key, value: t.value })) ?? [];
  validateTags(tags);
  const cluster = ctx.clusters.get(clusterName(input.cluster));

  // Idempotency: the same token on the same cluster returns the original tasks.
  const tokenKey =
    input.clientToken === undefined ? undefined : `${cluster.name}\n${input.clientToken}`;
  const { clientToken: _token, ...rest } = input as Record<string, unknown>;
  const print = fingerprint({ ...rest, cluster: cluster.name });
  if (tokenKey) {
    const seen = ctx.clientTokens.get(tokenKey);
    if (seen) {
      const tasks = seen.taskIds
        .map((id) => ctx.engine.get(id))
        .filter((t): t is TaskRecord => !!t);
      if (seen.fingerprint !== print) {
        throw conflict(
          'The specified client token has already been used in a RunTask request with different parameters.',
          tasks.map((t) => t.arn),
        );
      }
      return { tasks: tasks.map((t) => ctx.engine.describe(t, true)), failures: [] };
    }
  }

  const definition = ctx.taskDefinitions.find(input.taskDefinition);
  if (!definition) throw clientError('TaskDefinition not found.');
  if (definition.status !== 'ACTIVE') throw clientError('TaskDefinition is inactive');

  if (input.launchType && input.capacityProviderStrategy?.length) {
    throw invalidParameter(
      'Specifying both a launch type and capacity provider strategy is not supported.',
    );
  }
  if (input.launchType && input.launchType !== 'FARGATE') {
    // ecs-local has no container instances, as a Fargate-only cluster has none.
    return {
      tasks: [],
      failures: [{ reason: 'No Container Instances were found in your cluster.' }],
    };
  }
  let capacityProviderName = 'FARGATE';
  if (input.capacityProviderStrategy?.length) {
    for (const s of input.capacityProviderStrategy) {
      if (!cluster.capacityProviders.includes(s.capacityProvider)) {
        throw invalidParameter(
          `The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.`,
        );
      }
    }
    capacityProviderName = input.capacityProviderStrategy[0]!.capacityProvider;
  }
  const compat = definition.body.requiresCompatibilities as string[] | undefined;
  if ((compat && !compat.includes('FARGATE')) || definition.body.networkMode !== 'awsvpc') {
    throw invalidParameter('Task definition does not support launch_type FARGATE.');
  }
  const vpc = input.networkConfiguration?.awsvpcConfiguration;
  if (!vpc) {
    throw invalidParameter(
      "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    );
  }
  if (vpc.subnets.length === 0) throw invalidParameter('subnets can not be empty.');
  if (vpc.subnets.length > 16) throw invalidParameter('subnets can have at most 16 items.');
  for (const s of vpc.subnets) {
    if (!ctx.config.network.subnets.some((n) => n.subnetId === s)) {
      throw invalidParameter(
        `Error retrieving subnet information for [${s}]: The subnet ID '${s}' does not exist (ErrorCode: InvalidSubnetID.NotFound)`,
      );
    }
  }
  const securityGroups = vpc.securityGroups?.length
    ? vpc.securityGroups
    : [ctx.config.network.securityGroups[0]!.groupId];
  if (securityGroups.length > 5) throw invalidParameter('securityGroups can have at most 5 items.');
  for (const g of securityGroups) {
    if (!ctx.config.network.securityGroups.some((n) => n.groupId === g)) {
      throw invalidParameter(
        `Error retrieving security group information for [${g}]: The security group '${g}' does not exist (ErrorCode: InvalidGroup.NotFound)`,
      );
    }
  }
  const overrides = input.overrides ?? {};
  for (const o of overrides.containerOverrides ?? []) {
    if (!definition.containers.some((c) => c.name === o.name)) {
      throw invalidParameter(
        `Override for container named ${o.name} is not a container in the TaskDefinition.`,
      );
    }
  }
  if (overrides.cpu || overrides.memory) {
    checkFargateSize(
      overrides.cpu ?? definition.cpu ?? '',
      overrides.memory ?? definition.memory ?? '',
    );
  }
  checkTaskRole(ctx, overrides.taskRoleArn ?? (definition.body.taskRoleArn as string | undefined));
  let taskTags = tags;
  if (input.propagateTags === 'TASK_DEFINITION') {
    const own = new Set(tags.map((t) => t.key));
    taskTags = [...definition.tags.filter((t) => !own.has(t.key)), ...tags];
    validateTags(taskTags);
  }

  const tasks: TaskRecord[] = [];
  const failures: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    if (ctx.faults.takeCapacityFailure()) {
      failures.push({ reason: CAPACITY_REASON });
      continue;
    }
    tasks.push(
      ctx.engine.create({
        cluster,
        definition,
        overrides,
        startedBy: input.startedBy,
        group: input.group,
        capacityProviderName,
        platformVersion: input.platformVersion,
        tags: taskTags.map((t) => ({ ...t })),
        subnetId: vpc.subnets[i % vpc.subnets.length]!,
        securityGroups,
      }),
    );
  }
  if (tokenKey)
    ctx.clientTokens.set(tokenKey, { fingerprint: print, taskIds: tasks.map((t) => t.id) });
  return { tasks: tasks.map((t) => ctx.engine.describe(t, true)), failures };
};

/** ECS refuses a task role that does not exist (it cannot assume it) before running anything. */
function checkTaskRole(ctx: EcsContext, roleArn: string | undefined): void {
  if (roleArn === undefined || ctx.iam.byArn(roleArn)) return;
  throw clientError(
    `ECS was unable to assume the role '${roleArn}' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.`,
  );
}

function findTask(ctx: EcsContext, cluster: string, ref: string): TaskRecord | undefined {
  const t = ctx.engine.get(taskIdFrom(ref));
  return t && t.cluster.name === cluster ? t : undefined;
}

export const stopTask: Handler = (ctx, body) => {
  const input = parseInput(stopTaskSchema, body);
  const cluster = ctx.clusters.get(clusterName(input.cluster));
  const task = findTask(ctx, cluster.name, input.task);
  if (!task) throw invalidParameter('The referenced task was not found.');
  ctx.engine.stopByUser(task, input.reason);
  return { task: ctx.engine.describe(task, false) };
};

export const describeTasks: Handler = (ctx, body) => {
  const input = parseInput(describeTasksSchema, body);
  if (input.tasks.length === 0) throw invalidParameter('Tasks cannot be empty.');
  if (input.tasks.length > 100) throw invalidParameter('Tasks cannot have more than 100 elements.');
  const cluster = ctx.clusters.get(clusterName(input.cluster));
  const includeTags = input.include?.includes('TAGS') ?? false;
  const tasks: Record<string, unknown>[] = [];
  const failures: Record<string, unknown>[] = [];
  for (const ref of input.tasks) {
    const t = findTask(ctx, cluster.name, ref);
    if (t) tasks.push(ctx.engine.describe(t, includeTags));
    else
      failures.push({
        arn: ref.startsWith('arn:') ? ref : ctx.arns.task(cluster.name, ref),
        reason: 'MISSING',
      });
  }
  return { tasks, failures };
};

export const listTasks: Handler = (ctx, body) => {
  const input = parseInput(listTasksSchema, body);
  if (input.maxResults !== undefined && (input.maxResults < 1 || input.maxResults > 100)) {
    throw invalidParameter('maxResults must be between 1 and 100.');
  }
  if (
    input.startedBy !== undefined &&
    (input.family !== undefined ||
      input.containerInstance !== undefined ||
      input.serviceName !== undefined ||
      input.launchType !== undefined)
  ) {
    throw invalidParameter(
      'startedBy filter must be the only filter; it cannot be combined with family, containerInstance, serviceName or launchType.',
    );
  }
  const cluster = ctx.clusters.get(clusterName(input.cluster));
  const desired = input.desiredStatus ?? 'RUNNING';
  const matching = ctx.engine.all().filter(
    (t) =>
      t.cluster === cluster &&
      // Fargate tasks never have desiredStatus PENDING.
      t.desiredStatus === desired &&
      (input.startedBy === undefined || t.startedBy === input.startedBy) &&
      (input.family === undefined || t.definition.family === input.family) &&
      (input.launchType === undefined || t.launchType === input.launchType) &&
      input.serviceName === undefined &&
      input.containerInstance === undefined,
  );
  const result = page(matching, (t) => t.seq, input.nextToken, input.maxResults ?? 100);
  return {
    taskArns: result.items.map((t) => t.arn),
    ...(result.nextToken ? { nextToken: result.nextToken } : {}),
  };
};
