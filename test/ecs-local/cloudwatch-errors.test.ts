// ecs-local's CloudWatch refuses what CloudWatch refuses, in CloudWatch's words as
// the unmodified @aws-sdk/client-cloudwatch reads them (an error class and its
// Query-protocol Code, a message naming the field), and answers nothing to a
// request not signed with its key pair.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  InvalidNextToken,
  InvalidParameterValueException,
  ListMetricsCommand,
  MissingRequiredParameterException,
} from '@aws-sdk/client-cloudwatch';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { cloudWatchClient, insightsQuery, taskDimensions } from './cloudwatch-support.ts';
import { start } from './helpers.ts';

let ecsLocal: EcsLocal;
before(async () => {
  ecsLocal = await start({ metricsPeriodMs: 1000 });
});
after(() => ecsLocal.close());

const DIMS = taskDimensions('burn', 'arn:aws:ecs:eu-west-2:000000000000:task/default/abc');
const NOW = Date.now();
const valid = (): GetMetricDataCommandInput => ({
  StartTime: new Date(NOW - 60_000),
  EndTime: new Date(NOW),
  MetricDataQueries: [insightsQuery('q0', 'CpuUtilized', DIMS)],
});

async function refusal(input: GetMetricDataCommandInput) {
  try {
    await cloudWatchClient(ecsLocal).send(new GetMetricDataCommand(input));
  } catch (err) {
    return err as Error & { Code?: string; $metadata: { httpStatusCode?: number } };
  }
  assert.fail(`accepted ${JSON.stringify(input)}`);
}

test('bad queries get CloudWatch errors naming the field', async () => {
  const cases: [string, GetMetricDataCommandInput, string, RegExp][] = [
    [
      'Period 0',
      {
        ...valid(),
        MetricDataQueries: [insightsQuery('q0', 'CpuUtilized', DIMS, 0)],
      },
      'InvalidParameterValue',
      /MetricDataQueries\.member\.1\.MetricStat\.Period/,
    ],
    [
      'an unknown statistic',
      {
        ...valid(),
        MetricDataQueries: [insightsQuery('q0', 'CpuUtilized', DIMS, 60, 'p99')],
      },
      'InvalidParameterValue',
      /p99 for parameter MetricDataQueries\.member\.1\.MetricStat\.Stat/,
    ],
    [
      'an Id CloudWatch does not allow',
      { ...valid(), MetricDataQueries: [insightsQuery('Q-0', 'CpuUtilized', DIMS)] },
      'InvalidParameterValue',
      /MetricDataQueries\.member\.1\.Id.*lowercase letter/,
    ],
    [
      'the same Id twice',
      {
        ...valid(),
        MetricDataQueries: [
          insightsQuery('q0', 'CpuUtilized', DIMS),
          insightsQuery('q0', 'MemoryUtilized', DIMS),
        ],
      },
      'InvalidParameterValue',
      /q0 for parameter MetricDataQueries\.member\.2\.Id is not unique/,
    ],
    [
      'StartTime after EndTime',
      { ...valid(), StartTime: new Date(NOW), EndTime: new Date(NOW - 1000) },
      'InvalidParameterValue',
      /StartTime must be less than the parameter EndTime/,
    ],
    [
      '501 queries',
      {
        ...valid(),
        MetricDataQueries: Array.from({ length: 501 }, (_, i) =>
          insightsQuery(`q${i}`, 'CpuUtilized', DIMS),
        ),
      },
      'InvalidParameterValue',
      /MetricDataQueries.*500/,
    ],
    [
      'no queries',
      { ...valid(), MetricDataQueries: [] },
      'InvalidParameterValue',
      /MetricDataQueries/,
    ],
    [
      'a metric math expression',
      { ...valid(), MetricDataQueries: [{ Id: 'e1', Expression: 'SUM(METRICS())' }] },
      'InvalidParameterValue',
      /MetricDataQueries\.member\.1\.Expression: ecs-local answers MetricStat queries only/,
    ],
    [
      'a query with neither',
      { ...valid(), MetricDataQueries: [{ Id: 'e1' }] },
      'InvalidParameterValue',
      /Exactly one of MetricDataQueries\.member\.1\.MetricStat and/,
    ],
    [
      'no StartTime',
      { ...valid(), StartTime: undefined },
      'MissingParameter',
      /The parameter StartTime is required/,
    ],
    [
      'a metric without a name',
      {
        ...valid(),
        MetricDataQueries: [
          {
            Id: 'q0',
            MetricStat: {
              Metric: { Namespace: 'ECS/ContainerInsights', Dimensions: DIMS },
              Period: 60,
              Stat: 'Average',
            },
          },
        ],
      },
      'MissingParameter',
      /MetricDataQueries\.member\.1\.MetricStat\.Metric\.MetricName is required/,
    ],
  ];
  for (const [what, input, code, message] of cases) {
    const err = await refusal(input);
    assert.equal(err.Code, code, `${what}: ${err.name} ${err.message}`);
    assert.equal(err.$metadata.httpStatusCode, 400, what);
    assert.match(err.message, message, what);
    if (code === 'InvalidParameterValue') assert.ok(err instanceof InvalidParameterValueException);
    else assert.ok(err instanceof MissingRequiredParameterException);
  }
});

test('a NextToken that is not one of this request is InvalidNextToken', async () => {
  for (const token of ['garbage', Buffer.from('{"f":"x","q":0,"t":null}').toString('base64url')]) {
    const err = await refusal({ ...valid(), NextToken: token });
    assert.equal(err.Code, 'InvalidNextToken');
    assert.ok(err instanceof InvalidNextToken, `${token}: ${err.name}`);
  }
});

test('an operation other than GetMetricData is InvalidAction', async () => {
  await assert.rejects(
    cloudWatchClient(ecsLocal).send(new ListMetricsCommand({})),
    (err: Error) => {
      assert.equal(err.name, 'InvalidAction');
      assert.match(err.message, /GetMetricData only/);
      return true;
    },
  );
});

test('requests not signed with ecs-local key pair are refused and answer no data', async () => {
  const wrongKey = {
    accessKeyId: 'AKIAWRONGWRONGWRONG1',
    secretAccessKey: 'wrong-secret-key-0000',
  };
  const badSecret = { ...ecsLocal.credentials, secretAccessKey: 'not-the-right-secret-key' };
  for (const [credentials, name] of [
    [wrongKey, 'InvalidClientTokenId'],
    [badSecret, 'SignatureDoesNotMatch'],
  ] as const) {
    const err = await cloudWatchClient(ecsLocal, credentials)
      .send(new GetMetricDataCommand(valid()))
      .then(
        () => assert.fail('accepted'),
        (e: Error & { $metadata: { httpStatusCode?: number } }) => e,
      );
    assert.equal(err.name, name);
    assert.equal(err.$metadata.httpStatusCode, 403);
  }
  const unsigned = await fetch(ecsLocal.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'GraniteServiceVersion20100801.GetMetricData',
      'x-amzn-query-mode': 'true',
    },
    body: JSON.stringify({ ...valid(), StartTime: NOW / 1000 - 60, EndTime: NOW / 1000 }),
  });
  assert.equal(unsigned.status, 403);
  assert.equal(unsigned.headers.get('x-amzn-query-error'), 'MissingAuthenticationToken;Sender');
  const text = await unsigned.text();
  assert.doesNotMatch(text, /MetricDataResults/);
});
