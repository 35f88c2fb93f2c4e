// ECS API rules through the real SDK: clientToken idempotency, DescribeTasks'
// 100-task limit and MISSING failures, ListTasks' filters and pagination, RunTask
// limits, task definitions, clusters, tags and the error types the SDK maps.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ClientException,
  ClusterNotFoundException,
  ConflictException,
  CreateClusterCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  InvalidParameterException,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-ecs';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { ecsClient, NETWORK, registerFargate, start } from './helpers.ts';

let ecsLocal: EcsLocal;
let ecs: ECSClient;
let idleTd: string;
let missingTd: string;
before(async () => {
  // Slow provisioning keeps tasks cheap (no processes) while these tests run.
  ecsLocal = await start({ delays: { provisioningMs: 60_000 } });
  ecs = ecsClient(ecsLocal);
  idleTd = await registerFargate(ecs, 'idle', 'test/idle:1');
  missingTd = await registerFargate(ecs, 'missing', 'not/there:1');
});
after(() => ecsLocal.close());

const run = (extra: Partial<ConstructorParameters<typeof RunTaskCommand>[0]> = {}) =>
  ecs.send(
    new RunTaskCommand({
      taskDefinition: idleTd,
      launchType: 'FARGATE',
      networkConfiguration: NETWORK,
      ...extra,
    }),
  );

test('the same clientToken with the same parameters returns the original tasks', async () => {
  const first = await run({ clientToken: 'uid-1-attempt-0', count: 2, startedBy: 'berth' });
  const again = await run({ clientToken: 'uid-1-attempt-0', count: 2, startedBy: 'berth' });
  assert.equal(first.tasks!.length, 2);
  assert.deepEqual(
    again.tasks!.map((t) => t.taskArn),
    first.tasks!.map((t) => t.taskArn),
  );
  const other = await run({ clientToken: 'uid-1-attempt-1', count: 2, startedBy: 'berth' });
  assert.notDeepEqual(
    other.tasks!.map((t) => t.taskArn),
    first.tasks!.map((t) => t.taskArn),
  );
});

test('the same clientToken with different parameters is a ConflictException carrying resourceIds', async () => {
  const first = await run({ clientToken: 'uid-2', startedBy: 'berth' });
  const err = await run({ clientToken: 'uid-2', startedBy: 'someone-else' }).catch(
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConflictException, String(err));
  assert.equal(err.$metadata.httpStatusCode, 400);
  assert.deepEqual(err.resourceIds, [first.tasks![0]!.taskArn]);
});

test('RunTask limits: count, startedBy, clientToken, tags', async () => {
  const cases: [Partial<ConstructorParameters<typeof RunTaskCommand>[0]>, RegExp][] = [
    [{ count: 11 }, /count/],
    [{ count: 0 }, /count/],
    [{ startedBy: 'x'.repeat(129) }, /startedBy/],
    [{ clientToken: 'x'.repeat(65) }, /clientToken/],
    [{ tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' })) }, /50/],
    [{ tags: [{ key: 'aws:reserved', value: 'v' }] }, /aws:/],
    [{ networkConfiguration: undefined }, /Network Configuration/],
    [
      { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0123456789abcdef0'] } } },
      /subnet-0123456789abcdef0/,
    ],
    [{ overrides: { containerOverrides: [{ name: 'nope' }] } }, /nope/],
  ];
  for (const [params, message] of cases) {
    const err = await run(params).catch((e: unknown) => e);
    assert.ok(
      err instanceof InvalidParameterException,
      `${JSON.stringify(params).slice(0, 80)}: ${String(err)}`,
    );
    assert.match(err.message, message);
  }
  const ok = await run({
    startedBy: 'x'.repeat(128),
    count: 10,
    tags: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' })),
  });
  assert.equal(ok.tasks!.length, 10);
});

test('errors come back as the SDK’s modeled exceptions with ECS’s status codes', async () => {
  const noCluster = await run({ cluster: 'nope' }).catch((e: unknown) => e);
  assert.ok(noCluster instanceof ClusterNotFoundException);
  assert.equal(noCluster.$metadata.httpStatusCode, 400);
  const noTd = await run({ taskDefinition: 'unknown-family' }).catch((e: unknown) => e);
  assert.ok(noTd instanceof ClientException);
  assert.ok(noTd.$metadata.requestId, 'x-amzn-RequestId is read by the SDK');
  const fargateNeedsAwsvpc = await ecs
    .send(
      new RegisterTaskDefinitionCommand({
        family: 'bad',
        requiresCompatibilities: ['FARGATE'],
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'a', image: 'x' }],
      }),
    )
    .catch((e: unknown) => e);
  assert.ok(fargateNeedsAwsvpc instanceof ClientException);
  assert.match(fargateNeedsAwsvpc.message, /awsvpc/);
});

test('DescribeTasks: at most 100 tasks, unknown ones as MISSING failures, tags only with include TAGS', async () => {
  const { tasks } = await run({ tags: [{ key: 'owner', value: 'u1' }] });
  const arn = tasks![0]!.taskArn!;
  const unknown =
    'arn:aws:ecs:eu-west-2:000000000000:task/default/0123456789abcdef0123456789abcdef';
  const out = await ecs.send(
    new DescribeTasksCommand({ tasks: [arn, unknown, 'fedcba9876543210fedcba9876543210'] }),
  );
  assert.equal(out.tasks!.length, 1);
  assert.equal(out.tasks![0]!.tags, undefined, 'no tags without include TAGS');
  assert.deepEqual(out.failures, [
    { arn: unknown, reason: 'MISSING' },
    {
      arn: 'arn:aws:ecs:eu-west-2:000000000000:task/default/fedcba9876543210fedcba9876543210',
      reason: 'MISSING',
    },
  ]);
  const tagged = await ecs.send(new DescribeTasksCommand({ tasks: [arn], include: ['TAGS'] }));
  assert.deepEqual(tagged.tasks![0]!.tags, [{ key: 'owner', value: 'u1' }]);
  const hundred = Array.from({ length: 100 }, (_, i) => i.toString(16).padStart(32, '0'));
  const ok = await ecs.send(new DescribeTasksCommand({ tasks: hundred }));
  assert.equal(ok.failures!.length, 100);
  const tooMany = await ecs
    .send(new DescribeTasksCommand({ tasks: [...hundred, arn] }))
    .catch((e: unknown) => e);
  assert.ok(tooMany instanceof InvalidParameterException);
});

test('ListTasks: startedBy must be the only filter, maxResults at most 100, pages with nextToken', async () => {
  const mine: string[] = [];
  for (let i = 0; i < 3; i++) {
    const out = await run({ count: 9, startedBy: 'lister' });
    mine.push(...out.tasks!.map((t) => t.taskArn!));
  }
  const combined = await ecs
    .send(new ListTasksCommand({ startedBy: 'lister', family: 'idle' }))
    .catch((e: unknown) => e);
  assert.ok(combined instanceof InvalidParameterException);
  const tooBig = await ecs.send(new ListTasksCommand({ maxResults: 101 })).catch((e: unknown) => e);
  assert.ok(tooBig instanceof InvalidParameterException);

  // Stop one: desiredStatus defaults to RUNNING, so it drops out of the default listing.
  await ecs.send(new StopTaskCommand({ task: mine[0]! }));
  const pages: string[][] = [];
  let nextToken: string | undefined;
  do {
    const out = await ecs.send(
      new ListTasksCommand({ startedBy: 'lister', maxResults: 10, nextToken }),
    );
    pages.push(out.taskArns!);
    nextToken = out.nextToken;
  } while (nextToken);
  assert.deepEqual(
    pages.map((p) => p.length),
    [10, 10, 6],
  );
  assert.deepEqual(pages.flat(), mine.slice(1));
  const stopped = await ecs.send(
    new ListTasksCommand({ startedBy: 'lister', desiredStatus: 'STOPPED' }),
  );
  assert.deepEqual(stopped.taskArns, [mine[0]]);
  const byFamily = await ecs.send(new ListTasksCommand({ family: 'missing' }));
  assert.deepEqual(byFamily.taskArns, []);
  const badToken = await ecs
    .send(new ListTasksCommand({ nextToken: 'garbage!' }))
    .catch((e: unknown) => e);
  assert.ok(badToken instanceof InvalidParameterException);
});

test('task definitions: revisions, describe with TAGS, deregister, list by family and status with pages', async () => {
  const register = (tag: string) =>
    ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'tool',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '512',
        memory: '1024',
        containerDefinitions: [
          { name: 'app', image: 'test/idle:1', portMappings: [{ containerPort: 8888 }] },
        ],
        tags: [{ key: 'berth.hash', value: tag }],
      }),
    );
  const r1 = await register('h1');
  const r2 = await register('h2');
  assert.equal(r1.taskDefinition!.revision, 1);
  assert.equal(
    r2.taskDefinition!.taskDefinitionArn,
    'arn:aws:ecs:eu-west-2:000000000000:task-definition/tool:2',
  );
  assert.equal(r2.taskDefinition!.containerDefinitions![0]!.portMappings![0]!.hostPort, 8888);
  assert.ok(r2.taskDefinition!.registeredAt instanceof Date);
  const latest = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: 'tool', include: ['TAGS'] }),
  );
  assert.equal(latest.taskDefinition!.revision, 2);
  assert.deepEqual(latest.tags, [{ key: 'berth.hash', value: 'h2' }]);
  const noTags = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'tool:1' }));
  assert.equal(noTags.tags, undefined);
  await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'tool:2' }));
  const afterDereg = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'tool' }));
  assert.equal(
    afterDereg.taskDefinition!.revision,
    1,
    'a bare family means the latest ACTIVE revision',
  );
  const inactive = await run({ taskDefinition: 'tool:2' }).catch((e: unknown) => e);
  assert.ok(inactive instanceof ClientException);
  await register('h3');
  const page1 = await ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: 'tool', maxResults: 1 }),
  );
  assert.equal(page1.taskDefinitionArns!.length, 1);
  const page2 = await ecs.send(
    new ListTaskDefinitionsCommand({
      familyPrefix: 'tool',
      maxResults: 1,
      nextToken: page1.nextToken,
    }),
  );
  assert.deepEqual(
    [...page1.taskDefinitionArns!, ...page2.taskDefinitionArns!].map((a) => a.split('/')[1]),
    ['tool:1', 'tool:3'],
  );
  assert.equal(page2.nextToken, undefined);
  const desc = await ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: 'tool', sort: 'DESC' }),
  );
  assert.deepEqual(
    desc.taskDefinitionArns!.map((a) => a.split('/')[1]),
    ['tool:3', 'tool:1'],
  );
  const inactiveList = await ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: 'tool', status: 'INACTIVE' }),
  );
  assert.deepEqual(
    inactiveList.taskDefinitionArns!.map((a) => a.split('/')[1]),
    ['tool:2'],
  );
});

test('clusters and tags: CreateCluster, DescribeClusters with MISSING, Tag/Untag/ListTagsForResource', async () => {
  const created = await ecs.send(
    new CreateClusterCommand({ clusterName: 'berth', tags: [{ key: 'a', value: '1' }] }),
  );
  assert.equal(created.cluster!.clusterArn, 'arn:aws:ecs:eu-west-2:000000000000:cluster/berth');
  const described = await ecs.send(
    new DescribeClustersCommand({ clusters: ['berth', 'ghost'], include: ['TAGS'] }),
  );
  assert.equal(described.clusters![0]!.status, 'ACTIVE');
  assert.deepEqual(described.clusters![0]!.tags, [{ key: 'a', value: '1' }]);
  assert.deepEqual(described.failures, [
    { arn: 'arn:aws:ecs:eu-west-2:000000000000:cluster/ghost', reason: 'MISSING' },
  ]);
  const arn = created.cluster!.clusterArn!;
  await ecs.send(
    new TagResourceCommand({
      resourceArn: arn,
      tags: [
        { key: 'b', value: '2' },
        { key: 'a', value: '3' },
      ],
    }),
  );
  await ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['b'] }));
  const tags = await ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }));
  assert.deepEqual(tags.tags, [{ key: 'a', value: '3' }]);
  const { tasks } = await run({ cluster: 'berth' });
  await ecs.send(
    new TagResourceCommand({ resourceArn: tasks![0]!.taskArn!, tags: [{ key: 'x', value: 'y' }] }),
  );
  const taskTags = await ecs.send(
    new ListTagsForResourceCommand({ resourceArn: tasks![0]!.taskArn! }),
  );
  assert.deepEqual(taskTags.tags, [{ key: 'x', value: 'y' }]);
  await ecs.send(new StopTaskCommand({ cluster: 'berth', task: tasks![0]!.taskArn! }));
  const stoppedTag = await ecs
    .send(
      new TagResourceCommand({
        resourceArn: tasks![0]!.taskArn!,
        tags: [{ key: 'x', value: 'z' }],
      }),
    )
    .catch((e: unknown) => e);
  assert.ok(stoppedTag instanceof InvalidParameterException);
  // A task of another cluster is not found in this one.
  const elsewhere = await ecs.send(new DescribeTasksCommand({ tasks: [tasks![0]!.taskArn!] }));
  assert.equal(elsewhere.failures![0]!.reason, 'MISSING');
  assert.ok(missingTd);
});
