// The garbage collector: a task started behind berth's back with berth's
// startedBy is stopped (with an Event); a second task for an instance that
// expects another is stopped; an instance whose task vanished from ECS is
// marked Stopped with reason TaskMissing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ToolDefinition } from '../../crds/index.ts';
import {
  createInstance,
  createTool,
  type Env,
  eventsFor,
  getInstance,
  startEnv,
  tinySpec,
  waitFor,
  waitForPhase,
  waitForReadyAttempt,
} from './reconcile-support.ts';

let env: Env;

before(async () => {
  env = await startEnv({
    addressOctet: 23,
    // A fast GC with no grace period; ready instances polled rarely so the GC, not the poller, notices a vanished task.
    manager: { reconcilers: { gcIntervalMs: 300, gcGraceMs: 0, readyPollIntervalMs: 600_000 } },
  });
  await createTool(env.store, 'tiny', tinySpec());
});

after(async () => {
  await env?.close();
});

async function taskDefinitionArn(): Promise<string> {
  let arn = '';
  await waitFor(
    async () => {
      const td = (await env.store.get('ToolDefinition', undefined, 'tiny')) as ToolDefinition;
      arn = td.status?.taskDefinitionArn ?? '';
      return arn !== '';
    },
    10_000,
    'the tiny task definition',
  );
  return arn;
}

test('a task started behind berth’s back with berth’s startedBy is stopped, with an Event', async () => {
  const run = await env.driver.runTask({
    taskDefinition: await taskDefinitionArn(),
    clientToken: 'behind-the-back-1',
    tags: { 'berth:namespace': 'nobody', 'berth:name': 'stray' },
  });
  assert.ok('task' in run);
  const arn = run.task.taskArn!;
  assert.equal(run.task.startedBy, env.driver.startedBy);
  await waitFor(
    async () => (await env.driver.describeTasks([arn])).tasks[0]?.desiredStatus === 'STOPPED',
    10_000,
    'the GC to stop the stray task',
  );
  const { tasks } = await env.driver.describeTasks([arn]);
  assert.match(tasks[0]!.stoppedReason!, /^berth gc: its ToolInstance no longer exists/);
  await waitFor(
    async () =>
      (await eventsFor(env.store, 'nobody', 'stray')).some((e) => e.reason === 'OrphanTaskStopped'),
    5_000,
    'an OrphanTaskStopped Event',
  );
});

test('a second task for an instance that expects another is stopped; the expected one is kept', async () => {
  await createInstance(env.store, 'u1', 'tiny', 'tiny');
  const ti = await waitForPhase(env.store, 'u1', 'tiny', 'Ready', 10_000);
  const extra = await env.driver.runTask({
    taskDefinition: await taskDefinitionArn(),
    clientToken: `${ti.metadata.uid}-99`,
    tags: { 'berth:instance-uid': ti.metadata.uid!, 'berth:attempt': '99' },
  });
  assert.ok('task' in extra);
  await waitFor(
    async () =>
      (await env.driver.describeTasks([extra.task.taskArn!])).tasks[0]?.desiredStatus === 'STOPPED',
    10_000,
    'the GC to stop the duplicate',
  );
  const kept = await env.driver.describeTasks([ti.status!.taskArn!]);
  assert.equal(kept.tasks[0]?.desiredStatus, 'RUNNING');
  assert.equal((await getInstance(env.store, 'u1', 'tiny')).status?.phase, 'Ready');
  await waitFor(
    async () =>
      (await eventsFor(env.store, 'u1', 'tiny')).some((e) => e.reason === 'OrphanTaskStopped'),
    5_000,
    'an OrphanTaskStopped Event on the instance',
  );
});

test('an instance whose task vanished from ECS gets TaskMissing and a new task; the GC stops the old one', async () => {
  await createInstance(env.store, 'u2', 'tiny', 'tiny');
  const ready = await waitForPhase(env.store, 'u2', 'tiny', 'Ready', 10_000);
  const realTask = ready.status!.taskArn!;
  // As if ECS forgot the task: the instance now points at a task ECS never had.
  const ghost = 'arn:aws:ecs:eu-west-2:000000000000:task/default/0123456789abcdef0123456789abcdef';
  await env.store.patchStatus('ToolInstance', 'u2', 'tiny', { status: { taskArn: ghost } });
  await waitFor(
    async () =>
      (await eventsFor(env.store, 'u2', 'tiny')).some(
        (e) => e.type === 'Warning' && e.reason === 'TaskMissing',
      ),
    15_000,
    'a TaskMissing Event',
  );
  // The spec still says Running: a new attempt, Ready.
  await waitForReadyAttempt(env.store, 'u2', 'tiny', 2);
  const ti = await getInstance(env.store, 'u2', 'tiny');
  // Its first task no longer matches what the instance expects, so the GC stops it: one task left.
  await waitFor(
    async () => {
      const live = await env.driver.listTasks({ startedBy: env.driver.startedBy });
      const { tasks } = await env.driver.describeTasks(live);
      const mine = tasks.filter(
        (t) =>
          t.desiredStatus !== 'STOPPED' &&
          t.tags?.some((g) => g.key === 'berth:instance-uid' && g.value === ti.metadata.uid),
      );
      return mine.length === 1 && mine[0]!.taskArn === ti.status?.taskArn;
    },
    10_000,
    'the instance’s old task to be stopped, its new one kept',
  );
  assert.notEqual(ti.status?.taskArn, realTask);
});
