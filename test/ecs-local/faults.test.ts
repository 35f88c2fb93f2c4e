// Injected faults (latency, error rates) through the admin endpoint, stopped-task
// retention, and task-level overrides.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DescribeClustersCommand,
  DescribeTasksCommand,
  ServerException,
} from '@aws-sdk/client-ecs';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { admin } from '../support/ecs-local.ts';
import { ecsClient, registerFargate, runOne, start, waitFor, waitForStatus } from './helpers.ts';

let ecsLocal: EcsLocal;
before(async () => {
  ecsLocal = await start({ stoppedRetentionMs: 300 });
});
after(() => ecsLocal.close());

const setFaults = (body: unknown) =>
  admin(ecsLocal, `/_ecs-local/faults`, { method: 'POST', body: JSON.stringify(body) });

test('latency, ServerException and ThrottlingException can be injected, and reset', async () => {
  const ecs = ecsClient(ecsLocal);
  await setFaults({ latencyMs: { DescribeClusters: 200 } });
  const t0 = performance.now();
  await ecs.send(new DescribeClustersCommand({}));
  assert.ok(performance.now() - t0 >= 190, 'the call waited for the injected latency');

  await setFaults({ latencyMs: {}, serverErrorRate: 1 });
  const server = await ecs.send(new DescribeClustersCommand({})).catch((e: unknown) => e);
  assert.ok(server instanceof ServerException);
  assert.equal(server.$metadata.httpStatusCode, 500);

  await setFaults({ serverErrorRate: 0, throttlingRate: 1 });
  const throttled = await ecs
    .send(new DescribeClustersCommand({}))
    .catch((e: unknown) => e as Error);
  assert.equal((throttled as Error).name, 'ThrottlingException');

  const reset = await admin(ecsLocal, `/_ecs-local/faults`, { method: 'DELETE' });
  assert.equal(((await reset.json()) as { throttlingRate: number }).throttlingRate, 0);
  await ecs.send(new DescribeClustersCommand({}));
});

test('task-level cpu/memory overrides take effect; stopped tasks vanish after the retention time', async () => {
  const ecs = ecsClient(ecsLocal);
  const td = await registerFargate(ecs, 'sized', 'test/exit:1', { command: ['0', '200'] });
  const t = await runOne(ecs, td, { overrides: { cpu: '1024', memory: '2048' } });
  assert.equal(t.cpu, '1024');
  assert.equal(t.memory, '2048');
  const stopped = await waitForStatus(ecs, t.taskArn!, 'STOPPED');
  assert.equal(stopped.containers![0]!.exitCode, 0);
  await waitFor('the stopped task to be forgotten', async () => {
    const out = await ecs.send(new DescribeTasksCommand({ tasks: [t.taskArn!] }));
    return out.failures?.[0]?.reason === 'MISSING';
  });
});
