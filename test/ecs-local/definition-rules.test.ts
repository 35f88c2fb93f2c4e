// RegisterTaskDefinition keeps dependsOn, healthCheck (with ECS's defaults),
// stopTimeout, restartPolicy, volumes and mountPoints, and refuses in ECS's words
// what ECS refuses.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type ContainerDefinition,
  DescribeTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  type Volume,
} from '@aws-sdk/client-ecs';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { ecsClient, start } from './helpers.ts';

let ecsLocal: EcsLocal;
before(async () => {
  ecsLocal = await start();
});
after(() => ecsLocal.close());

function register(containers: ContainerDefinition[], volumes: Volume[] = []) {
  return ecsClient(ecsLocal).send(
    new RegisterTaskDefinitionCommand({
      family: 'rules',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      volumes,
      containerDefinitions: containers.map((c) => ({ image: 'test/idle:1', ...c })),
    }),
  );
}

const check = { command: ['CMD-SHELL', 'true'] };

test('the new fields survive RegisterTaskDefinition -> DescribeTaskDefinition', async () => {
  const out = await register(
    [
      {
        name: 'sync',
        essential: true,
        healthCheck: { command: ['CMD', 's3sync', 'healthcheck'], startPeriod: 10 },
        restartPolicy: { enabled: true, ignoredExitCodes: [0], restartAttemptPeriod: 60 },
        stopTimeout: 20,
        mountPoints: [{ sourceVolume: 'home', containerPath: '/home/berth', readOnly: false }],
      },
      {
        name: 'tool',
        dependsOn: [{ containerName: 'sync', condition: 'HEALTHY' }],
        mountPoints: [{ sourceVolume: 'home', containerPath: '/home/berth' }],
      },
    ],
    [{ name: 'home' }],
  );
  const described = await ecsClient(ecsLocal).send(
    new DescribeTaskDefinitionCommand({ taskDefinition: out.taskDefinition!.taskDefinitionArn }),
  );
  const [sync, tool] = described.taskDefinition!.containerDefinitions!;
  assert.deepEqual(sync!.healthCheck, {
    command: ['CMD', 's3sync', 'healthcheck'],
    interval: 30,
    timeout: 5,
    retries: 3,
    startPeriod: 10,
  });
  assert.deepEqual(sync!.restartPolicy, {
    enabled: true,
    ignoredExitCodes: [0],
    restartAttemptPeriod: 60,
  });
  assert.equal(sync!.stopTimeout, 20);
  assert.deepEqual(tool!.dependsOn, [{ containerName: 'sync', condition: 'HEALTHY' }]);
  assert.deepEqual(tool!.mountPoints, [{ sourceVolume: 'home', containerPath: '/home/berth' }]);
  assert.deepEqual(described.taskDefinition!.volumes, [{ name: 'home' }]);
});

const refusals: [string, () => Promise<unknown>, RegExp][] = [
  [
    'a dependsOn naming an unknown container',
    () => register([{ name: 'a', dependsOn: [{ containerName: 'ghost', condition: 'START' }] }]),
    /^Cannot depend on container \+ 'ghost' because it does not exist$/,
  ],
  [
    'a cycle',
    () =>
      register([
        { name: 'a', dependsOn: [{ containerName: 'b', condition: 'START' }] },
        { name: 'b', dependsOn: [{ containerName: 'a', condition: 'START' }] },
      ]),
    /cycle: a -> b -> a/,
  ],
  [
    'HEALTHY on a container without a healthCheck',
    () =>
      register([
        { name: 'a' },
        { name: 'b', dependsOn: [{ containerName: 'a', condition: 'HEALTHY' }] },
      ]),
    /^A dependency container with HEALTHY condition must have health check configured$/,
  ],
  [
    'COMPLETE on an essential container',
    () =>
      register([
        { name: 'a', essential: true },
        { name: 'b', dependsOn: [{ containerName: 'a', condition: 'COMPLETE' }] },
      ]),
    /^A dependency container with SUCCESS or COMPLETE condition cannot be an essential container$/,
  ],
  [
    'a mountPoint naming an unknown volume',
    () => register([{ name: 'a', mountPoints: [{ sourceVolume: 'x', containerPath: '/x' }] }]),
    /^Unknown volume 'x'\.$/,
  ],
  [
    'a host sourcePath on Fargate',
    () => register([{ name: 'a' }], [{ name: 'v', host: { sourcePath: '/etc' } }]),
    /^Fargate compatible task definitions do not support sourcePath$/,
  ],
  [
    'a health check interval out of range',
    () => register([{ name: 'a', healthCheck: { ...check, interval: 2 } }]),
    /container 'a'\. healthCheck\.interval must be between 5 and 300/,
  ],
  [
    'a health check command that is not CMD or CMD-SHELL',
    () => register([{ name: 'a', healthCheck: { command: ['curl', 'x'] } }]),
    /container 'a'\. healthCheck\.command must be/,
  ],
  [
    'a restartAttemptPeriod out of range',
    () => register([{ name: 'a', restartPolicy: { enabled: true, restartAttemptPeriod: 10 } }]),
    /container 'a'\. restartPolicy\.restartAttemptPeriod must be between 60 and 1800/,
  ],
];

for (const [what, attempt, message] of refusals) {
  test(`RegisterTaskDefinition refuses ${what}`, async () => {
    await assert.rejects(attempt(), (err: Error) => {
      assert.equal(err.name, 'ClientException');
      assert.match(err.message, message);
      return true;
    });
  });
}

test('a bad dependsOn condition is refused naming the field', async () => {
  await assert.rejects(
    register([
      { name: 'a' },
      // biome-ignore lint/suspicious/noExplicitAny: a value the SDK's types forbid, on purpose
      { name: 'b', dependsOn: [{ containerName: 'a', condition: 'READY' as any }] },
    ]),
    /containerDefinitions\.1\.dependsOn\.0\.condition/,
  );
});
