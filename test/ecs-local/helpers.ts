// Shared by the ecs-local tests: start an instance with the fixture image map,
// make real SDK clients for it, and wait for conditions (never fixed sleeps).
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { type EcsLocal, type StartOptions, startEcsLocal } from '../../ecs-local/index.ts';
import { waitFor as kitWaitFor } from '../support/wait.ts';

const fixtures = join(import.meta.dirname, 'fixtures');
// The script is part of the ENTRYPOINT, so a definition's `command` only replaces its arguments.
const script = (name: string) => ({ command: [`$${'{node}'}`, join(fixtures, name)] });

export const TEST_IMAGES = {
  'test/serve:1': script('serve.mjs'),
  'test/exit:1': script('exit.mjs'),
  'test/ignore-term:1': script('ignore-term.mjs'),
  'test/busy:1': script('busy.mjs'),
  'test/idle:1': script('idle.mjs'),
  'test/spawn-child:1': script('spawn-child.mjs'),
};

export const SUBNET = 'subnet-0a1b2c3d4e5f60001';
export const SECURITY_GROUP = 'sg-0a1b2c3d4e5f60001';
export const NETWORK = {
  awsvpcConfiguration: {
    subnets: [SUBNET],
    securityGroups: [SECURITY_GROUP],
    assignPublicIp: 'DISABLED' as const,
  },
};

/** A distinct 127.<octet> block per instance, so parallel test files never share an address. */
function randomOctet(): number {
  return 100 + Math.floor(Math.random() * 150);
}

export function start(options: StartOptions = {}): Promise<EcsLocal> {
  return startEcsLocal({
    port: 0,
    throttling: false,
    addressOctet: randomOctet(),
    imageMap: TEST_IMAGES,
    ...options,
  });
}

/** The SDK's ECS client, signing with the instance's key pair. */
export function ecsClient(
  ecsLocal: Pick<EcsLocal, 'url' | 'credentials'>,
  maxAttempts = 1,
): ECSClient {
  return new ECSClient({
    endpoint: ecsLocal.url,
    region: 'eu-west-2',
    credentials: ecsLocal.credentials,
    maxAttempts,
  });
}

export function ec2Client(ecsLocal: Pick<EcsLocal, 'url' | 'credentials'>): EC2Client {
  return new EC2Client({
    endpoint: ecsLocal.url,
    region: 'eu-west-2',
    credentials: ecsLocal.credentials,
    maxAttempts: 1,
  });
}

/** The kit's waitFor (test/support/wait.ts), in the argument order these tests read best in. */
export function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  return kitWaitFor(probe, timeoutMs, what, 10);
}

export async function describeTask(ecs: ECSClient, arn: string): Promise<Task> {
  const out = await ecs.send(new DescribeTasksCommand({ tasks: [arn], include: ['TAGS'] }));
  return out.tasks![0]!;
}

/** Polls until the task's lastStatus is `status`, returning that task. */
export function waitForStatus(
  ecs: ECSClient,
  arn: string,
  status: string,
  timeoutMs?: number,
): Promise<Task> {
  return waitFor(
    `task ${arn} to be ${status}`,
    async () => {
      const t = await describeTask(ecs, arn);
      return t.lastStatus === status ? t : undefined;
    },
    timeoutMs,
  );
}

export async function registerFargate(
  ecs: ECSClient,
  family: string,
  image: string,
  extra: {
    command?: string[];
    stopTimeout?: number;
    port?: number;
    environment?: { name: string; value: string }[];
  } = {},
): Promise<string> {
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'main',
          image,
          essential: true,
          command: extra.command,
          stopTimeout: extra.stopTimeout,
          environment: extra.environment,
          portMappings: extra.port ? [{ containerPort: extra.port }] : undefined,
        },
      ],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

export async function runOne(
  ecs: ECSClient,
  taskDefinition: string,
  extra: Partial<ConstructorParameters<typeof RunTaskCommand>[0]> = {},
): Promise<Task> {
  const out = await ecs.send(
    new RunTaskCommand({
      taskDefinition,
      launchType: 'FARGATE',
      networkConfiguration: NETWORK,
      ...extra,
    }),
  );
  if (out.failures?.length) throw new Error(`RunTask failures: ${JSON.stringify(out.failures)}`);
  return out.tasks![0]!;
}

/** Whether a pid is still a live process (a zombie counts as alive: it was not reaped). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
