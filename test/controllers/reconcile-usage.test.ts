// Usage records under the real controllers and ecs-local: a launch opens one row
// with the task's size and ECS's own start (pullStartedAt), a stop closes it at
// ECS's stoppedAt; a task stopped while the controllers were down is closed at
// ECS's time after the restart; a row whose instance vanished (finalizer removed
// by hand) is closed by the GC once the task has stopped.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ResourceStore } from '../../store/index.ts';
import {
  createInstance,
  createTool,
  type Env,
  startEnv,
  tinySpec,
  waitFor,
  waitForPhase,
  waitForReadyAttempt,
} from './reconcile-support.ts';

let env: Env;
// The GC often and without grace (the orphan's task is stopped at once); Ready tasks
// polled often, so a task stopped behind berth's back is seen within a second.
const RECONCILERS = { gcIntervalMs: 300, gcGraceMs: 0, readyPollIntervalMs: 500 };

before(async () => {
  env = await startEnv({ addressOctet: 83, manager: { reconcilers: RECONCILERS } });
  await createTool(env.store, 'tiny', tinySpec());
});

after(async () => {
  await env?.close();
});

interface Row {
  task_arn: string;
  namespace: string;
  instance_name: string;
  instance_uid: string;
  tool: string;
  size: string;
  cpu_units: number;
  memory_mib: number;
  started_at: Date;
  started_exact: boolean;
  stopped_at: Date | null;
}

async function rowsOf(namespace: string): Promise<Row[]> {
  const { rows } = await env.db.pool.query<Row>(
    'select *, instance_uid::text from task_usage where namespace = $1 order by started_at',
    [namespace],
  );
  return rows;
}

async function ecsTask(arn: string) {
  const { tasks } = await env.driver.describeTasks([arn]);
  return tasks[0]!;
}

/** The newest manager's store (after a restart the first one is closed). */
function store(): ResourceStore {
  return env.managers.at(-1)!.store;
}

test('a launch opens one row (size, ECS start); a stop closes it at ECS’s stoppedAt; a relaunch opens another', async () => {
  await createInstance(env.store, 'usage1', 'tiny', 'tiny', { size: 'large' });
  const ready = await waitForPhase(env.store, 'usage1', 'tiny', 'Ready', 20_000);
  const arn = ready.status!.taskArn!;
  const [row] = await rowsOf('usage1');
  assert.ok(row, 'a row for the running task');
  assert.equal((await rowsOf('usage1')).length, 1);
  assert.deepEqual(
    {
      task: row.task_arn,
      instance: row.instance_name,
      uid: row.instance_uid,
      tool: row.tool,
      size: row.size,
      cpu: row.cpu_units,
      memory: row.memory_mib,
      stopped: row.stopped_at,
    },
    {
      task: arn,
      instance: 'tiny',
      uid: ready.metadata.uid,
      tool: 'tiny',
      size: 'large',
      cpu: 1024,
      memory: 2048,
      stopped: null,
    },
  );
  // Fargate bills from the image pull: the start is ECS's pullStartedAt (seconds), refined at Ready.
  const task = await ecsTask(arn);
  assert.equal(row.started_exact, true);
  assert.equal(row.started_at.getTime(), new Date(task.pullStartedAt!).getTime());

  await store().patch('ToolInstance', 'usage1', 'tiny', { spec: { state: 'Stopped' } });
  await waitForPhase(env.store, 'usage1', 'tiny', 'Stopped', 15_000);
  const [closed] = await rowsOf('usage1');
  const stoppedTask = await ecsTask(arn);
  assert.ok(closed?.stopped_at, 'closed with the Stopped write');
  assert.equal(closed.stopped_at.getTime(), new Date(stoppedTask.stoppedAt!).getTime());

  await store().patch('ToolInstance', 'usage1', 'tiny', { spec: { state: 'Running' } });
  const again = await waitForReadyAttempt(env.store, 'usage1', 'tiny', 2, 20_000);
  const rows = await rowsOf('usage1');
  assert.deepEqual(
    rows.map((r) => [r.task_arn, r.stopped_at === null]),
    [
      [arn, false],
      [again.status!.taskArn!, true],
    ],
  );
});

test('a task stopped while the controllers were down: after the restart its row closes at ECS’s stoppedAt', async () => {
  await createInstance(store(), 'usage2', 'tiny', 'tiny');
  const ready = await waitForPhase(store(), 'usage2', 'tiny', 'Ready', 20_000);
  const arn = ready.status!.taskArn!;
  await env.managers.at(-1)!.close();

  await env.driver.stopTask(arn, 'stopped behind berth’s back');
  await waitFor(
    async () => (await ecsTask(arn)).lastStatus === 'STOPPED',
    15_000,
    'the task to stop',
  );
  const stoppedAt = new Date((await ecsTask(arn)).stoppedAt!).getTime();
  assert.equal((await rowsOf('usage2'))[0]?.stopped_at, null, 'nothing closes it while down');

  await env.startManager({ reconcilers: RECONCILERS });
  // The spec still says Running: the lost task is replaced (attempt 2), and its row closed.
  await waitForReadyAttempt(store(), 'usage2', 'tiny', 2, 20_000);
  const rows = await rowsOf('usage2');
  assert.equal(rows.length, 2);
  assert.equal(rows[0]!.task_arn, arn);
  assert.equal(rows[0]!.stopped_at?.getTime(), stoppedAt, 'at ECS’s time, not the restart’s');
  assert.equal(rows[1]!.stopped_at, null);
});

test('an instance removed without its finalizer: the GC stops the orphan and closes its row', async () => {
  await createInstance(store(), 'usage3', 'tiny', 'tiny');
  const ready = await waitForPhase(store(), 'usage3', 'tiny', 'Ready', 20_000);
  const arn = ready.status!.taskArn!;
  // By hand, as an operator might: the finalizer goes, so the delete is immediate.
  await store().patch('ToolInstance', 'usage3', 'tiny', { metadata: { finalizers: [] } });
  await store().delete('ToolInstance', 'usage3', 'tiny');
  await waitFor(
    async () => (await rowsOf('usage3'))[0]?.stopped_at,
    20_000,
    'the GC to close the orphan’s row',
  );
  const task = await ecsTask(arn);
  assert.equal(task.lastStatus, 'STOPPED');
  assert.match(task.stoppedReason ?? '', /^berth gc:/);
  assert.equal(
    (await rowsOf('usage3'))[0]!.stopped_at!.getTime(),
    new Date(task.stoppedAt!).getTime(),
  );
});
