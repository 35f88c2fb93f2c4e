// Operation name (the part of X-Amz-Target after the dot) -> handler.
import type { Handler } from './context.ts';
import {
  createCluster,
  describeClusters,
  listTagsForResource,
  tagResource,
  untagResource,
} from './ops-clusters-tags.ts';
import {
  deregisterTaskDefinition,
  describeTaskDefinition,
  listTaskDefinitions,
  registerTaskDefinition,
} from './ops-task-definitions.ts';
import { describeTasks, listTasks, runTask, stopTask } from './ops-tasks.ts';

export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113';

export const OPERATIONS: Record<string, Handler> = {
  RegisterTaskDefinition: registerTaskDefinition,
  DeregisterTaskDefinition: deregisterTaskDefinition,
  DescribeTaskDefinition: describeTaskDefinition,
  ListTaskDefinitions: listTaskDefinitions,
  RunTask: runTask,
  StopTask: stopTask,
  DescribeTasks: describeTasks,
  ListTasks: listTasks,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListTagsForResource: listTagsForResource,
  CreateCluster: createCluster,
  DescribeClusters: describeClusters,
};
