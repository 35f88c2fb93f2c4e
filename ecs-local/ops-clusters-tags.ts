// CreateCluster, DescribeClusters, TagResource, UntagResource, ListTagsForResource.
import { z } from 'zod';
import { clusterName, parseResourceArn } from './arns.ts';
import type { ClusterRecord } from './clusters.ts';
import type { EcsContext, Handler } from './context.ts';
import { invalidParameter, resourceNotFound } from './protocol.ts';
import { mergeTags, type Tag, tagSchema, validateTags } from './tags.ts';
import { parseInput } from './validation.ts';

const createSchema = z.looseObject({
  clusterName: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,255}$/, 'letters, numbers, hyphens and underscores, up to 255')
    .optional(),
  tags: z.array(tagSchema).optional(),
  capacityProviders: z.array(z.string()).optional(),
});

const describeSchema = z.object({
  clusters: z.array(z.string()).max(100).optional(),
  include: z
    .array(z.enum(['ATTACHMENTS', 'CONFIGURATIONS', 'SETTINGS', 'STATISTICS', 'TAGS']))
    .optional(),
});

const tagSchemaInput = z.object({ resourceArn: z.string().min(1), tags: z.array(tagSchema) });
const untagSchema = z.object({ resourceArn: z.string().min(1), tagKeys: z.array(z.string()) });
const listTagsSchema = z.object({ resourceArn: z.string().min(1) });

function describeCluster(
  ctx: EcsContext,
  c: ClusterRecord,
  include: string[],
): Record<string, unknown> {
  const tasks = ctx.engine.all().filter((t) => t.cluster === c);
  return {
    clusterArn: c.arn,
    clusterName: c.name,
    status: 'ACTIVE',
    registeredContainerInstancesCount: 0,
    runningTasksCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
    pendingTasksCount: tasks.filter((t) =>
      ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(t.lastStatus),
    ).length,
    activeServicesCount: 0,
    statistics: [],
    capacityProviders: c.capacityProviders,
    defaultCapacityProviderStrategy: [],
    ...(include.includes('TAGS') ? { tags: c.tags } : {}),
    ...(include.includes('SETTINGS')
      ? { settings: [{ name: 'containerInsights', value: 'disabled' }] }
      : {}),
  };
}

export const createCluster: Handler = (ctx, body) => {
  const input = parseInput(createSchema, body);
  const tags: Tag[] = input.tags?.map((t) => ({ key: t.key, value: t.value })) ?? [];
  validateTags(tags);
  const c = ctx.clusters.create(input.clusterName ?? 'default', tags, input.capacityProviders);
  return { cluster: describeCluster(ctx, c, ['TAGS', 'SETTINGS']) };
};

export const describeClusters: Handler = (ctx, body) => {
  const input = parseInput(describeSchema, body);
  const names = input.clusters?.length ? input.clusters : ['default'];
  const clusters: Record<string, unknown>[] = [];
  const failures: Record<string, unknown>[] = [];
  for (const ref of names) {
    const c = ctx.clusters.find(clusterName(ref));
    if (c) clusters.push(describeCluster(ctx, c, input.include ?? []));
    else failures.push({ arn: ctx.arns.cluster(clusterName(ref)), reason: 'MISSING' });
  }
  return { clusters, failures };
};

/** The tag list of the resource an ARN names; throws as ECS does when there is none. */
function taggable(
  ctx: EcsContext,
  arn: string,
  forWrite: boolean,
): { tags: Tag[]; set: (t: Tag[]) => void } {
  const ref = parseResourceArn(arn);
  if (!ref) throw invalidParameter(`Invalid resource ARN: ${arn}`);
  if (ref.kind === 'cluster') {
    const c = ctx.clusters.find(ref.name);
    if (!c) throw resourceNotFound('The specified cluster could not be found.');
    return { tags: c.tags, set: (t) => (c.tags = t) };
  }
  if (ref.kind === 'task') {
    const t = ctx.engine.get(ref.id);
    if (!t || t.cluster.name !== ref.cluster)
      throw resourceNotFound('The specified task could not be found.');
    if (forWrite && t.desiredStatus === 'STOPPED') {
      throw invalidParameter(
        'The specified task is stopped. Specify a running task and try again.',
      );
    }
    return { tags: t.tags, set: (tags) => (t.tags = tags) };
  }
  const td = ctx.taskDefinitions.find(`${ref.family}:${ref.revision}`);
  if (!td) throw resourceNotFound('The specified task definition could not be found.');
  return { tags: td.tags, set: (t) => (td.tags = t) };
}

export const tagResource: Handler = (ctx, body) => {
  const input = parseInput(tagSchemaInput, body);
  const target = taggable(ctx, input.resourceArn, true);
  const added = input.tags.map((t) => ({ key: t.key, value: t.value }));
  validateTags(added);
  target.set(mergeTags(target.tags, added));
  return {};
};

export const untagResource: Handler = (ctx, body) => {
  const input = parseInput(untagSchema, body);
  const target = taggable(ctx, input.resourceArn, true);
  const remove = new Set(input.tagKeys);
  target.set(target.tags.filter((t) => !remove.has(t.key)));
  return {};
};

export const listTagsForResource: Handler = (ctx, body) => {
  const input = parseInput(listTagsSchema, body);
  return { tags: taggable(ctx, input.resourceArn, false).tags };
};
