// Shared bits of the ECS driver tests: a tiny stand-in image, a task
// definition input, and waiting for a condition with a deadline.
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';

/** ecs-local image map entry: a container that just sleeps (and exits at once on SIGTERM). */
export const sleepImage = {
  'berth/sleep:latest': { command: 'sleep', args: ['600'] },
};

export function taskDefinitionInput(
  family: string,
  extra: Partial<RegisterTaskDefinitionCommandInput> = {},
): RegisterTaskDefinitionCommandInput {
  return {
    family,
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: '256',
    memory: '512',
    containerDefinitions: [
      { name: 'tool', image: 'berth/sleep:latest', essential: true, stopTimeout: 2 },
    ],
    ...extra,
  };
}

export { waitFor } from '../support/wait.ts';
