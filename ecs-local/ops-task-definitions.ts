// RegisterTaskDefinition, DeregisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions.
import { z } from 'zod';
import type { EcsContext, Handler } from './context.ts';
import { page } from './pagination.ts';
import { clientError } from './protocol.ts';
import { registerSchema } from './task-definitions.ts';
import { parseInput } from './validation.ts';

const describeSchema = z.object({
  taskDefinition: z.string().min(1),
  include: z.array(z.enum(['TAGS'])).optional(),
});

const deregisterSchema = z.object({ taskDefinition: z.string().min(1) });

const listSchema = z.object({
  familyPrefix: z.string().optional(),
  status: z.enum(['ACTIVE', 'INACTIVE', 'DELETE_IN_PROGRESS']).optional(),
  sort: z.enum(['ASC', 'DESC']).optional(),
  nextToken: z.string().optional(),
  maxResults: z.number().int().min(1).max(100).optional(),
});

export const registerTaskDefinition: Handler = (ctx: EcsContext, body) => {
  const input = parseInput(registerSchema, body);
  const record = ctx.taskDefinitions.register(input);
  return { taskDefinition: ctx.taskDefinitions.describe(record), tags: record.tags };
};

export const deregisterTaskDefinition: Handler = (ctx, body) => {
  const input = parseInput(deregisterSchema, body);
  const record = ctx.taskDefinitions.deregister(input.taskDefinition);
  return { taskDefinition: ctx.taskDefinitions.describe(record) };
};

export const describeTaskDefinition: Handler = (ctx, body) => {
  const input = parseInput(describeSchema, body);
  const record = ctx.taskDefinitions.find(input.taskDefinition);
  if (!record) throw clientError('Unable to describe task definition.');
  return {
    taskDefinition: ctx.taskDefinitions.describe(record),
    ...(input.include?.includes('TAGS') ? { tags: record.tags } : {}),
  };
};

export const listTaskDefinitions: Handler = (ctx, body) => {
  const input = parseInput(listSchema, body);
  const status = input.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE';
  // ECS's familyPrefix names a whole family, despite its name.
  let records = ctx.taskDefinitions.list(input.familyPrefix, status);
  if (input.status === 'DELETE_IN_PROGRESS') records = [];
  // A stable position per record: registration order, reversed for DESC.
  const ordered = records
    .map((r) => ({ r, key: r.registeredAt * 1000 + r.revision }))
    .sort((a, b) => a.key - b.key);
  if (input.sort === 'DESC') ordered.reverse();
  const indexed = ordered.map((o, i) => ({ r: o.r, pos: i + 1 }));
  const result = page(indexed, (x) => x.pos, input.nextToken, input.maxResults ?? 100);
  return {
    taskDefinitionArns: result.items.map((x) => x.r.arn),
    ...(result.nextToken ? { nextToken: result.nextToken } : {}),
  };
};
