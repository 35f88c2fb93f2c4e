// The ECS driver against a real ecs-local over HTTP, through the real AWS SDK.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import {
  createEcsDriver,
  type EcsDriver,
  type EcsDriverConfig,
  loadEcsConfig,
} from '../../controllers/index.ts';
import { type EcsLocal, startEcsLocal } from '../../ecs-local/index.ts';
import { ecsLocalEnv } from '../support/ecs-local.ts';
import { metricValue } from '../support/metrics.ts';
import { sleepImage, taskDefinitionInput, waitFor } from './ecs-support.ts';

let ecsLocal: EcsLocal;
const drivers: EcsDriver[] = [];

function driverFor(
  extra: Record<string, string> = {},
  registry = new Registry(),
): { driver: EcsDriver; registry: Registry; config: EcsDriverConfig } {
  const config = loadEcsConfig({
    ...ecsLocalEnv(ecsLocal),
    BERTH_ECS_REGION: 'eu-west-2',
    BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002',
    BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
    BERTH_INSTALLATION_ID: 'test',
    ...extra,
  });
  const driver = createEcsDriver({ config, registry });
  drivers.push(driver);
  return { driver, registry, config };
}

let counters = 0;

/** Counts SDK calls per command, once per call (initialize step runs before retries). */
function countCalls(driver: EcsDriver): Map<string, number> {
  const counts = new Map<string, number>();
  driver.ecs.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? '?';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: `testCountCalls${++counters}` },
  );
  return counts;
}

before(async () => {
  ecsLocal = await startEcsLocal({ port: 0, throttling: true, imageMap: sleepImage });
});

after(async () => {
  for (const d of drivers) d.close();
  await ecsLocal?.close();
});

describe('registerTaskDefinition', () => {
  test('registers only when the content changed', async () => {
    const { driver } = driverFor();
    const family = `hash-${randomUUID().slice(0, 8)}`;
    const first = await driver.registerTaskDefinition(taskDefinitionInput(family));
    assert.equal(first.registered, true);
    assert.match(first.arn, new RegExp(`task-definition/${family}:1$`));

    const same = await driver.registerTaskDefinition(taskDefinitionInput(family));
    assert.deepEqual(same, first.registered ? { ...first, registered: false } : first);

    // Concurrent identical registrations in one process register nothing new either.
    const twins = await Promise.all(
      [1, 2, 3].map(() => driver.registerTaskDefinition(taskDefinitionInput(family))),
    );
    assert.deepEqual(new Set(twins.map((t) => t.arn)), new Set([first.arn]));

    const changed = await driver.registerTaskDefinition(
      taskDefinitionInput(family, { memory: '1024' }),
    );
    assert.equal(changed.registered, true);
    assert.match(changed.arn, new RegExp(`task-definition/${family}:2$`));

    // A fresh driver (another replica) sees the hash on ECS and registers nothing.
    const { driver: other } = driverFor();
    const again = await other.registerTaskDefinition(
      taskDefinitionInput(family, { memory: '1024' }),
    );
    assert.equal(again.registered, false);
    assert.equal(again.arn, changed.arn);

    const gone = await driver.deregisterOldRevisions(family, 1);
    assert.deepEqual(gone, [first.arn]);
  });
});

describe('runTask, listTasks and describeTasks', () => {
  let driver: EcsDriver;
  let registry: Registry;
  let taskDefinition: string;
  const startedBy = `paging-${randomUUID().slice(0, 8)}`;
  const launched: string[] = [];

  before(async () => {
    ({ driver, registry } = driverFor());
    taskDefinition = (
      await driver.registerTaskDefinition(taskDefinitionInput(`run-${randomUUID().slice(0, 8)}`))
    ).arn;
  });

  test('a retried RunTask with the same clientToken returns the same task', async () => {
    const clientToken = `uid-${randomUUID()}-attempt-1`.slice(0, 64);
    const a = await driver.runTask({
      taskDefinition,
      clientToken,
      tags: { 'berth:instance': 'analyst1/demo' },
    });
    const b = await driver.runTask({
      taskDefinition,
      clientToken,
      tags: { 'berth:instance': 'analyst1/demo' },
    });
    assert.ok('task' in a && 'task' in b, 'both answers carry the task');
    assert.equal(a.task.taskArn, b.task.taskArn);
    assert.equal(a.task.startedBy, 'berth-test');
    const { tasks } = await driver.describeTasks([a.task.taskArn!]);
    const tags = Object.fromEntries((tasks[0]?.tags ?? []).map((t) => [t.key, t.value]));
    assert.equal(tags['berth:instance'], 'analyst1/demo');
    assert.equal(tags['berth:installation'], 'test');
    // The same token with other parameters is a conflict, thrown (not a failure).
    await assert.rejects(
      driver.runTask({ taskDefinition, clientToken, tags: { 'berth:instance': 'analyst2/demo' } }),
      (err: Error) => err.name === 'ConflictException',
    );
    await driver.stopTask(a.task.taskArn!, 'test done');
  });

  test('listTasks pages through more than 100 tasks', async () => {
    // 12 RunTask calls of 10 tasks each: 120 tasks, more than one ListTasks page.
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        driver.runTask({ taskDefinition, clientToken: `${startedBy}-${i}`, startedBy, count: 10 }),
      ),
    );
    for (const r of results) {
      assert.ok('tasks' in r, `RunTask failed: ${JSON.stringify(r)}`);
      launched.push(...r.tasks.map((t) => t.taskArn!));
    }
    assert.equal(launched.length, 120);
    const counts = countCalls(driver);
    const listed = await driver.listTasks({ startedBy });
    assert.deepEqual([...listed].sort(), [...launched].sort());
    assert.equal(counts.get('ListTasksCommand'), 2, 'two pages of at most 100');
  });

  test('250 concurrent describe calls become 3 DescribeTasks calls, each caller getting its own answer', async () => {
    assert.equal(launched.length, 120, 'needs the tasks of the paging test');
    const unknown = Array.from({ length: 130 }, () => randomUUID().replaceAll('-', ''));
    const refs = [...launched, ...unknown];
    const counts = countCalls(driver);
    const before = await metricValue(registry, 'berth_ecs_calls_total', {
      operation: 'DescribeTasks',
    });
    const answers = await Promise.all(refs.map((ref) => driver.describeTasks([ref])));
    assert.equal(counts.get('DescribeTasksCommand'), 3);
    assert.equal(
      (await metricValue(registry, 'berth_ecs_calls_total', { operation: 'DescribeTasks' })) -
        before,
      3,
    );
    answers.forEach((answer, i) => {
      if (i < launched.length) {
        assert.equal(answer.tasks.length, 1);
        assert.equal(answer.tasks[0]!.taskArn, refs[i]);
        assert.equal(answer.failures.length, 0);
      } else {
        assert.equal(answer.tasks.length, 0);
        assert.equal(answer.failures[0]?.reason, 'MISSING');
      }
    });
  });

  test('stopping the listed tasks leaves none running', async () => {
    await Promise.all(launched.map((arn) => driver.stopTask(arn, 'test cleanup')));
    await waitFor(
      async () => (await driver.listTasks({ startedBy })).length === 0,
      10_000,
      'tasks to leave RUNNING',
    );
    const stopped = await driver.listTasks({ startedBy, desiredStatus: 'STOPPED' });
    assert.equal(stopped.length, 120);
  });
});

describe('client-side token buckets', () => {
  // Its own ecs-local, so its buckets are full whatever the other tests did.
  let fresh: EcsLocal;
  before(async () => {
    fresh = await startEcsLocal({
      port: 0,
      throttling: true,
      imageMap: sleepImage,
      addressOctet: 1,
    });
  });
  after(async () => {
    await fresh?.close();
  });

  test('60 launches in one go: no ThrottlingException with the buckets; 150 without them meet ECS’s limit', async () => {
    const guarded = driverFor(ecsLocalEnv(fresh));
    const td = (
      await guarded.driver.registerTaskDefinition(
        taskDefinitionInput(`burst-${randomUUID().slice(0, 8)}`),
      )
    ).arn;
    const tag = randomUUID().slice(0, 8);
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        guarded.driver.runTask({ taskDefinition: td, clientToken: `g-${tag}-${i}` }),
      ),
    );
    assert.equal(results.filter((r) => 'task' in r).length, 60);
    assert.equal(await metricValue(guarded.registry, 'berth_ecs_throttled_total'), 0);

    // A burst without client-side buckets (and without SDK retries) meets ECS's limit.
    // 150, not 60: on a loaded machine 60 calls can trickle out slowly enough to fit
    // ECS's burst of 20 plus its refill, and the test would prove nothing.
    const unguarded = driverFor({
      ...ecsLocalEnv(fresh),
      BERTH_ECS_CLIENT_THROTTLE: 'off',
      BERTH_ECS_MAX_ATTEMPTS: '1',
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 150 }, (_, i) =>
        unguarded.driver.runTask({ taskDefinition: td, clientToken: `u-${tag}-${i}` }),
      ),
    );
    const throttled = outcomes.filter(
      (o) => o.status === 'rejected' && (o.reason as Error).name === 'ThrottlingException',
    );
    assert.ok(throttled.length > 0, 'without buckets ECS throttles the burst');
    assert.equal(
      await metricValue(unguarded.registry, 'berth_ecs_throttled_total'),
      throttled.length,
    );
  });
});

describe('preflight', () => {
  test('all checks pass for the ecs-local network', async () => {
    const { driver } = driverFor();
    const findings = await driver.preflight();
    assert.deepEqual(
      findings.filter((f) => !f.ok),
      [],
    );
    assert.deepEqual(
      findings.map((f) => f.check),
      [
        'ECS cluster',
        'Fargate capacity provider',
        'Subnets',
        'Security groups',
        'Security group rules',
      ],
    );
  });

  test('a missing subnet, a missing cluster and no security groups are named with a fix', async () => {
    const { driver } = driverFor({
      BERTH_ECS_CLUSTER: 'nope',
      BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001,subnet-0deadbeef',
      BERTH_ECS_SECURITY_GROUPS: '',
    });
    const findings = await driver.preflight();
    const byCheck = Object.fromEntries(findings.map((f) => [f.check, f]));
    assert.equal(byCheck['ECS cluster']?.ok, false);
    assert.match(byCheck['ECS cluster']!.message, /"nope" does not exist/);
    assert.match(byCheck['ECS cluster']!.fix!, /create-cluster --cluster-name nope/);
    assert.equal(byCheck.Subnets?.ok, false);
    assert.match(byCheck.Subnets!.message, /The subnet "subnet-0deadbeef" does not exist/);
    assert.doesNotMatch(byCheck.Subnets!.message, /60001/);
    assert.match(byCheck.Subnets!.fix!, /BERTH_ECS_SUBNETS/);
    assert.equal(byCheck['Security groups']?.ok, false);
    assert.match(byCheck['Security groups']!.fix!, /Set BERTH_ECS_SECURITY_GROUPS=/);
  });

  test('a key pair ecs-local does not know is named, with where its pair comes from', async () => {
    const { driver } = driverFor({
      BERTH_ECS_ACCESS_KEY_ID: 'AKIANOTTHEPAIR000000',
      BERTH_ECS_SECRET_ACCESS_KEY: 'not-the-secret-of-this-ecs-local',
      BERTH_ECS_MAX_ATTEMPTS: '1',
    });
    const findings = await driver.preflight();
    assert.equal(findings.length, 1);
    assert.match(
      findings[0]!.message,
      /did not accept berth's AWS credentials \(UnrecognizedClientException\)/,
    );
    assert.match(findings[0]!.fix!, /BERTH_ECS_ACCESS_KEY_ID and BERTH_ECS_SECRET_ACCESS_KEY/);
    assert.doesNotMatch(JSON.stringify(findings), /not-the-secret/);
  });

  test('an endpoint nobody answers on says how to start ecs-local', async () => {
    const { driver } = driverFor({
      BERTH_ECS_ENDPOINT: 'http://127.0.0.1:9',
      BERTH_ECS_MAX_ATTEMPTS: '1',
    });
    const findings = await driver.preflight();
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.ok, false);
    assert.match(findings[0]!.fix!, /Start ecs-local/);
  });
});
