// ecs-local answers CloudWatch GetMetricData with ECS Container Insights task
// metrics sampled from /proc, to the unmodified @aws-sdk/client-cloudwatch: a task
// burning CPU reports what /proc says it used, an idle one about nothing; any other
// dimension set is another metric (empty); pages follow MaxDatapoints and NextToken.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GetMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { Task } from '@aws-sdk/client-ecs';
import type { EcsLocal } from '../../ecs-local/index.ts';
import {
  clockPast,
  cloudWatchClient,
  cpuNsOf,
  insightsQuery,
  pidOfContainer,
  rssOf,
  taskDimensions,
} from './cloudwatch-support.ts';
import { ecsClient, registerFargate, runOne, start, waitFor, waitForStatus } from './helpers.ts';

const PERIOD_MS = 1000;
const WINDOW_PERIODS = 6;

let ecsLocal: EcsLocal;
let busy: Task;
let idle: Task;
/** The measured window [from, to) on period boundaries, and what /proc said of it. */
let from: number;
let to: number;
let procCpuUnits: number;
let procRssMiB: number;

before(async () => {
  ecsLocal = await start({ metricsPeriodMs: PERIOD_MS });
  const ecs = ecsClient(ecsLocal);
  await registerFargate(ecs, 'burn', 'test/busy:1');
  await registerFargate(ecs, 'rest', 'test/idle:1');
  busy = await waitForStatus(ecs, (await runOne(ecs, 'burn')).taskArn!, 'RUNNING');
  idle = await waitForStatus(ecs, (await runOne(ecs, 'rest')).taskArn!, 'RUNNING');
  const pid = pidOfContainer(busy.containers![0]!.runtimeId!);
  // Read /proc on two period boundaries, as the sampler does, a few periods apart.
  from = (Math.floor(Date.now() / PERIOD_MS) + 2) * PERIOD_MS;
  to = from + WINDOW_PERIODS * PERIOD_MS;
  const at0 = await clockPast(from);
  const cpu0 = cpuNsOf(pid);
  const at1 = await clockPast(to);
  const cpu1 = cpuNsOf(pid);
  procCpuUnits = ((cpu1 - cpu0) / ((at1 - at0) * 1e6)) * 1024;
  procRssMiB = rssOf(pid) / (1024 * 1024);
});

after(() => ecsLocal.close());

async function windowResults(queries: Parameters<typeof insightsQuery>[], extra = {}) {
  const cw = cloudWatchClient(ecsLocal);
  const out = await cw.send(
    new GetMetricDataCommand({
      StartTime: new Date(from),
      EndTime: new Date(to),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: queries.map((q) => insightsQuery(...q)),
      ...extra,
    }),
  );
  return out;
}

/** Waits until the sampler has read the window's last period (it reads at the boundary). */
async function fullWindow(): Promise<MetricDataResult[]> {
  return waitFor('every period of the window to be sampled', async () => {
    const out = await windowResults([
      ['busy', 'CpuUtilized', taskDimensions('burn', busy.taskArn!)],
      ['idle', 'CpuUtilized', taskDimensions('rest', idle.taskArn!)],
      ['mem', 'MemoryUtilized', taskDimensions('burn', busy.taskArn!)],
      ['cpures', 'CpuReserved', taskDimensions('burn', busy.taskArn!)],
      ['memres', 'MemoryReserved', taskDimensions('burn', busy.taskArn!)],
    ]);
    const results = out.MetricDataResults!;
    return results.every((r) => r.Values!.length === WINDOW_PERIODS) ? results : undefined;
  });
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

test('a task burning CPU reports in CpuUtilized what /proc says it used (within 5 %), an idle one about 0', async (t) => {
  const results = await fullWindow();
  const byId = new Map(results.map((r) => [r.Id!, r]));
  const busyCpu = byId.get('busy')!;
  assert.deepEqual(
    busyCpu.Timestamps!.map((t) => t.getTime()),
    Array.from({ length: WINDOW_PERIODS }, (_, i) => from + i * PERIOD_MS),
    'one datapoint a period, stamped with its start',
  );
  assert.equal(busyCpu.StatusCode, 'Complete');
  assert.equal(busyCpu.Label, 'CpuUtilized');
  const reported = mean(busyCpu.Values!);
  t.diagnostic(`CpuUtilized ${reported.toFixed(1)}, /proc ${procCpuUnits.toFixed(1)} CPU units`);
  assert.ok(procCpuUnits > 100, `the busy task used ${procCpuUnits} CPU units by /proc`);
  assert.ok(
    Math.abs(reported - procCpuUnits) <= 0.05 * procCpuUnits,
    `CpuUtilized ${reported.toFixed(1)} vs /proc ${procCpuUnits.toFixed(1)} CPU units`,
  );
  const idleCpu = mean(byId.get('idle')!.Values!);
  assert.ok(idleCpu < 20, `the idle task's CpuUtilized is ${idleCpu} units (2 % of a core: 20)`);
  const mem = mean(byId.get('mem')!.Values!);
  assert.ok(
    Math.abs(mem - procRssMiB) <= 0.1 * procRssMiB,
    `MemoryUtilized ${mem} MiB vs /proc VmRSS ${procRssMiB} MiB`,
  );
  assert.deepEqual(byId.get('cpures')!.Values, Array(WINDOW_PERIODS).fill(256));
  assert.deepEqual(byId.get('memres')!.Values, Array(WINDOW_PERIODS).fill(512));
});

test('Period aggregates samples; each statistic is computed over them', async () => {
  const samples = (await fullWindow()).find((r) => r.Id === 'busy')!.Values!;
  const dims = taskDimensions('burn', busy.taskArn!);
  // A 2 s period on even boundaries: the window's six 1 s samples make three datapoints.
  const evenFrom = Math.ceil(from / 2000) * 2000;
  const pairs = samples.slice((evenFrom - from) / 1000, (evenFrom - from) / 1000 + 4);
  const out = await cloudWatchClient(ecsLocal).send(
    new GetMetricDataCommand({
      StartTime: new Date(evenFrom),
      EndTime: new Date(evenFrom + 4000),
      ScanBy: 'TimestampAscending',
      MetricDataQueries: [
        insightsQuery('avg', 'CpuUtilized', dims, 2, 'Average'),
        insightsQuery('max', 'CpuUtilized', dims, 2, 'Maximum'),
        insightsQuery('min', 'CpuUtilized', dims, 2, 'Minimum'),
        insightsQuery('sum', 'CpuUtilized', dims, 2, 'Sum'),
        insightsQuery('n', 'CpuUtilized', dims, 2, 'SampleCount'),
      ],
    }),
  );
  const v = new Map(out.MetricDataResults!.map((r) => [r.Id!, r.Values!]));
  const [a, b, c, d] = pairs as [number, number, number, number];
  const close = (x: number[], y: number[]) =>
    assert.deepEqual(
      x.map((n) => n.toFixed(6)),
      y.map((n) => n.toFixed(6)),
    );
  close(v.get('avg')!, [(a + b) / 2, (c + d) / 2]);
  close(v.get('max')!, [Math.max(a, b), Math.max(c, d)]);
  close(v.get('min')!, [Math.min(a, b), Math.min(c, d)]);
  close(v.get('sum')!, [a + b, c + d]);
  assert.deepEqual(v.get('n'), [2, 2]);
  // Newest first unless asked otherwise, as CloudWatch answers.
  const desc = await cloudWatchClient(ecsLocal).send(
    new GetMetricDataCommand({
      StartTime: new Date(evenFrom),
      EndTime: new Date(evenFrom + 4000),
      MetricDataQueries: [insightsQuery('avg', 'CpuUtilized', dims, 2)],
    }),
  );
  assert.deepEqual(
    desc.MetricDataResults![0]!.Timestamps!.map((t) => t.getTime()),
    [evenFrom + 2000, evenFrom],
  );
});

test('any other namespace, metric, unit or dimension set is another metric: an empty result', async () => {
  await fullWindow();
  const dims = taskDimensions('burn', busy.taskArn!);
  const out = await windowResults([
    ['taskonly', 'CpuUtilized', [dims[2]!]],
    ['extra', 'CpuUtilized', [...dims, { Name: 'ContainerName', Value: 'main' }]],
    ['family', 'CpuUtilized', taskDimensions('rest', busy.taskArn!)],
    ['cluster', 'CpuUtilized', taskDimensions('burn', busy.taskArn!, 'other')],
    ['metric', 'NetworkRxBytes', dims],
  ]);
  for (const r of out.MetricDataResults!) {
    assert.deepEqual([r.Id, r.Values, r.StatusCode], [r.Id, [], 'Complete']);
  }
  const cw = cloudWatchClient(ecsLocal);
  const other = await cw.send(
    new GetMetricDataCommand({
      StartTime: new Date(from),
      EndTime: new Date(to),
      MetricDataQueries: [
        {
          Id: 'ns',
          MetricStat: {
            Metric: { Namespace: 'AWS/ECS', MetricName: 'CpuUtilized', Dimensions: dims },
            Period: 1,
            Stat: 'Average',
          },
        },
        {
          Id: 'unit',
          MetricStat: {
            Metric: {
              Namespace: 'ECS/ContainerInsights',
              MetricName: 'CpuUtilized',
              Dimensions: dims,
            },
            Period: 1,
            Stat: 'Average',
            Unit: 'Percent',
          },
        },
        { ...insightsQuery('hidden', 'CpuUtilized', dims), ReturnData: false },
      ],
    }),
  );
  assert.deepEqual(
    other.MetricDataResults!.map((r) => [r.Id, r.Values!.length]),
    [
      ['ns', 0],
      ['unit', 0],
    ],
  );
});

test('MaxDatapoints pages the answer; following NextToken gives every datapoint once', async () => {
  const whole = await fullWindow();
  const queries: Parameters<typeof insightsQuery>[] = [
    ['busy', 'CpuUtilized', taskDimensions('burn', busy.taskArn!)],
    ['idle', 'CpuUtilized', taskDimensions('rest', idle.taskArn!)],
  ];
  const got = new Map<string, [number, number][]>();
  const statuses: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const out = await windowResults(queries, { MaxDatapoints: 4, NextToken: token });
    pages += 1;
    const count = out.MetricDataResults!.reduce((a, r) => a + r.Values!.length, 0);
    assert.ok(count <= 4, `page ${pages} has ${count} datapoints`);
    for (const r of out.MetricDataResults!) {
      statuses.push(`${r.Id}:${r.StatusCode}`);
      const list = got.get(r.Id!) ?? [];
      for (const [i, t] of r.Timestamps!.entries()) list.push([t.getTime(), r.Values![i]!]);
      got.set(r.Id!, list);
    }
    token = out.NextToken;
  } while (token);
  assert.equal(pages, 3, 'twelve datapoints, four a page');
  assert.deepEqual(statuses, [
    'busy:PartialData',
    'busy:Complete',
    'idle:PartialData',
    'idle:Complete',
  ]);
  for (const id of ['busy', 'idle']) {
    const expected = whole.find((r) => r.Id === id)!;
    assert.deepEqual(
      got.get(id),
      expected.Timestamps!.map((t, i) => [t.getTime(), expected.Values![i]]),
      `${id}: every datapoint once, in order`,
    );
  }
});
