// The culler's "ECS task stats" CPU source against ecs-local's CloudWatch, with real
// tasks: a busy task's samples are over the default cpuThreshold (5 % of the task's
// CPU), an idle one's under; 600 instances cost two GetMetricData calls; pages are
// followed. The client is the controllers' own (BERTH_CLOUDWATCH_ENDPOINT, else
// BERTH_ECS_ENDPOINT).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { ecsTaskStatsCpuSource } from '../../../controllers/culling/cpu-ecs-task-stats.ts';
import type { CpuQuery } from '../../../controllers/culling/cpu-source.ts';
import { createCloudWatchClient, loadEcsConfig } from '../../../controllers/index.ts';
import type { EcsLocal } from '../../../ecs-local/index.ts';
import { ecsClient, runOne, start, waitFor, waitForStatus } from '../../ecs-local/helpers.ts';

const THRESHOLD = 5;
const family = (tool: string) => `berth-test-${tool}`;

let ecsLocal: EcsLocal;
let busy: CpuQuery;
let idle: CpuQuery;
/** When both ran and had started up (a starting process's CPU is not what is measured). */
let settledAt: number;

async function runTool(tool: string, image: string): Promise<CpuQuery> {
  const ecs = ecsClient(ecsLocal);
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: family(tool),
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '1024',
      memory: '2048',
      containerDefinitions: [{ name: 'main', image, essential: true }],
    }),
  );
  const task = await waitForStatus(ecs, (await runOne(ecs, family(tool))).taskArn!, 'RUNNING');
  return {
    key: `alice/${tool}`,
    namespace: 'alice',
    name: tool,
    tool,
    taskArn: task.taskArn!,
    cpuUnits: 1024,
  };
}

function client(): CloudWatchClient {
  const config = loadEcsConfig({
    BERTH_ECS_ENDPOINT: ecsLocal.url,
    BERTH_ECS_REGION: 'eu-west-2',
    BERTH_ECS_ACCESS_KEY_ID: ecsLocal.credentials.accessKeyId,
    BERTH_ECS_SECRET_ACCESS_KEY: ecsLocal.credentials.secretAccessKey,
    BERTH_ECS_MAX_ATTEMPTS: '1',
  });
  assert.equal(config.cloudwatchEndpoint, ecsLocal.url, 'CloudWatch defaults to the ECS endpoint');
  return createCloudWatchClient(config);
}

/** Counts GetMetricData calls and the queries in each (and may shrink pages). */
function counted(c: CloudWatchClient, maxDatapoints?: number): number[] {
  const calls: number[] = [];
  c.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { MetricDataQueries: unknown[]; MaxDatapoints?: number };
      calls.push(input.MetricDataQueries.length);
      if (maxDatapoints) input.MaxDatapoints = maxDatapoints;
      return next(args);
    },
    { step: 'initialize' },
  );
  return calls;
}

before(async () => {
  ecsLocal = await start({ metricsPeriodMs: 1000 });
  busy = await runTool('busy', 'test/busy:1');
  idle = await runTool('idle', 'test/idle:1');
  settledAt = Date.now() + 2000;
});
after(() => ecsLocal.close());

const source = (c: CloudWatchClient) =>
  ecsTaskStatsCpuSource({ client: c, clusterName: 'default', family });

test('a busy task samples over the threshold, an idle one under, as percent of the task CPU', async (t) => {
  const src = source(client());
  const answer = await waitFor('three samples of each', async () => {
    if (Date.now() < settledAt + 1000) return undefined;
    const a = await src.read([busy, idle], settledAt, Date.now(), 1000);
    return (a.get(busy.key)?.length ?? 0) >= 3 && (a.get(idle.key)?.length ?? 0) >= 3
      ? a
      : undefined;
  });
  const busySamples = answer.get(busy.key)!;
  const idleSamples = answer.get(idle.key)!;
  t.diagnostic(`busy ${busySamples.map(([, v]) => v.toFixed(1)).join(' ')} %`);
  t.diagnostic(`idle ${idleSamples.map(([, v]) => v.toFixed(1)).join(' ')} %`);
  assert.ok(
    busySamples.every(([, v]) => v > THRESHOLD),
    'every busy sample over 5 %',
  );
  assert.ok(
    idleSamples.every(([, v]) => v < THRESHOLD),
    'every idle sample under 5 %',
  );
  const times = busySamples.map(([ms]) => ms);
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
    'oldest first',
  );
  assert.ok(
    times.every((ms, i) => i === 0 || ms - times[i - 1]! === 1000),
    'one a step',
  );
});

test('600 instances go in two GetMetricData calls (500 + 100); unknown tasks are absent', async () => {
  const c = client();
  const calls = counted(c);
  const unknown = (i: number): CpuQuery => ({
    ...idle,
    key: `bob/t${i}`,
    name: `t${i}`,
    taskArn: `arn:aws:ecs:eu-west-2:000000000000:task/default/${i.toString(16).padStart(32, '0')}`,
  });
  const queries = Array.from({ length: 600 }, (_, i) => unknown(i));
  queries[10] = idle;
  queries[550] = busy; // in the second call
  const now = Date.now();
  const answer = await source(c).read(queries, now - 30_000, now, 1000);
  assert.deepEqual(calls, [500, 100]);
  assert.deepEqual([...answer.keys()].sort(), [busy.key, idle.key].sort());
  assert.ok(answer.get(busy.key)!.every(([, v]) => v > THRESHOLD));
});

test('NextToken is followed: small pages give the same samples as one', async () => {
  // A window already sampled, so both reads see the same datapoints.
  const since = settledAt;
  const until = since + 3000;
  const whole = await waitFor('the window to be sampled', async () => {
    const a = await source(client()).read([busy, idle], since, until, 1000);
    return a.get(busy.key)?.length === 3 && a.get(idle.key)?.length === 3 ? a : undefined;
  });
  const c = client();
  const calls = counted(c, 2);
  const paged = await source(c).read([busy, idle], since, until, 1000);
  const points = (whole.get(busy.key)?.length ?? 0) + (whole.get(idle.key)?.length ?? 0);
  assert.equal(points, 6);
  assert.equal(calls.length, 3, 'two datapoints a page');
  assert.deepEqual(paged, whole);
});
