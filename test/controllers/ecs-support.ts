// Shared bits of the ECS driver tests: a tiny stand-in image, a task
// definition input, and waiting for a condition with a deadline.
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';

/**
 * AWS documents two Fargate buckets: task launches (burst 100, 20 tasks/s) and
 * RunTask calls (20/s, burst and sustained); the driver holds both by default.
 * ecs-local (for now) models one bucket counting launched tasks with a burst of
 * 20, so tests against it size the driver's launch bucket to match.
 */
export const ECS_LOCAL_BUCKETS = {
  fargateTaskLaunch: { capacity: 20, refillPerSecond: 20 },
};

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

/** Polls `check` until it is true; fails naming `what` after `timeoutMs`. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
