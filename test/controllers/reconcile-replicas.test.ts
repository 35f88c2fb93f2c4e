// Two controller replicas (two managers, each with its own pool and ECS driver)
// share 200 ToolInstances: no key is ever reconciled by both at once (recorded
// around every reconcile), every instance ends Ready, and ECS runs exactly one
// task per instance.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Reconciler } from '../../controllers/index.ts';
import type { ToolInstance } from '../../crds/index.ts';
import {
  createInstance,
  createTool,
  type Env,
  liveTasks,
  startEnv,
  tinySpec,
  waitFor,
} from './reconcile-support.ts';

const N = 200;
const running = new Map<string, string>();
const overlaps: string[] = [];
const byReplica = new Map<string, number>();

function recording(replica: string) {
  return (kind: string, r: Reconciler): Reconciler =>
    async (ctx, key) => {
      const k = `${kind}/${key.namespace ?? ''}/${key.name}`;
      const other = running.get(k);
      if (other) overlaps.push(`${k}: ${replica} while ${other}`);
      running.set(k, replica);
      byReplica.set(replica, (byReplica.get(replica) ?? 0) + 1);
      try {
        return await r(ctx, key);
      } finally {
        running.delete(k);
      }
    };
}

let env: Env;

before(async () => {
  env = await startEnv({
    addressOctet: 25,
    gateStub: true,
    manager: { wrap: recording('a'), controller: { concurrency: 20 } },
  });
  await env.startManager({ wrap: recording('b'), ownPool: true, controller: { concurrency: 20 } });
  await createTool(env.store, 'tiny', tinySpec({ spawnTimeout: '90s' }));
});

after(async () => {
  await env?.close();
});

test(`two replicas, ${N} instances: no key reconciled concurrently, no duplicate tasks, all Ready`, async () => {
  for (let i = 0; i < N; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, N - i) }, (_, j) =>
        createInstance(env.store, `user${i + j}`, 'tiny', 'tiny'),
      ),
    );
  }
  let items: ToolInstance[] = [];
  await waitFor(
    async () => {
      items = (await env.store.list('ToolInstance')).items as ToolInstance[];
      return items.length === N && items.every((ti) => ti.status?.phase === 'Ready');
    },
    90_000,
    'every instance Ready',
  );
  assert.deepEqual(overlaps, []);
  assert.ok(
    (byReplica.get('a') ?? 0) > 0 && (byReplica.get('b') ?? 0) > 0,
    `both replicas worked: ${JSON.stringify([...byReplica])}`,
  );

  const live = await liveTasks(env.driver);
  assert.equal(live.length, N, 'one live task per instance');
  assert.deepEqual(new Set(live), new Set(items.map((ti) => ti.status!.taskArn!)));
  const stopped = await env.driver.listTasks({
    startedBy: env.driver.startedBy,
    desiredStatus: 'STOPPED',
  });
  assert.equal(stopped.length, 0, 'no task was started and then thrown away');
  assert.ok(items.every((ti) => ti.status?.attempt === 1));
});
