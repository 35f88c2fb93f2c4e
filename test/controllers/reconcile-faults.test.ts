// With ThrottlingException and 500 ServerException injected on 20% of ECS calls
// (10% each, by ecs-local), every instance still converges to Ready with
// exactly one task.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ToolInstance } from '../../crds/index.ts';
import { admin } from '../support/ecs-local.ts';
import {
  createInstance,
  createTool,
  type Env,
  liveTasks,
  startEnv,
  tinySpec,
  waitFor,
} from './reconcile-support.ts';

const N = 40;
let env: Env;

before(async () => {
  env = await startEnv({ addressOctet: 24, gateStub: true });
  await createTool(env.store, 'tiny', tinySpec({ spawnTimeout: '60s' }));
});

after(async () => {
  await env?.close();
});

test(`${N} instances converge with 20% of ECS calls failing (throttling and 500s)`, async () => {
  const res = await admin(env.ecsLocal, `/_ecs-local/faults`, {
    method: 'POST',
    body: JSON.stringify({ throttlingRate: 0.1, serverErrorRate: 0.1 }),
  });
  assert.ok(res.ok);
  await Promise.all(
    Array.from({ length: N }, (_, i) => createInstance(env.store, `user${i}`, 'tiny', 'tiny')),
  );
  let items: ToolInstance[] = [];
  await waitFor(
    async () => {
      items = (await env.store.list('ToolInstance')).items as ToolInstance[];
      return items.length === N && items.every((ti) => ti.status?.phase === 'Ready');
    },
    60_000,
    'every instance Ready',
  );
  await admin(env.ecsLocal, `/_ecs-local/faults`, { method: 'DELETE' });

  // Exactly one live task per instance, and it is the one in status.
  const live = await liveTasks(env.driver);
  assert.equal(live.length, N);
  assert.deepEqual(new Set(live), new Set(items.map((ti) => ti.status!.taskArn!)));
  // The faults really were hit (the SDK retried throttled calls).
  const throttled = await env.driverRegistry.getSingleMetric('berth_ecs_throttled_total')!.get();
  const total = throttled.values.reduce((n, v) => n + v.value, 0);
  assert.ok(total > 0, 'some calls were throttled');
});
