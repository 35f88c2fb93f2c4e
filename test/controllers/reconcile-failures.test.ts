// How launches fail and how running tools stop unexpectedly: fail fast with the
// reason in plain words (an image that cannot be pulled, a tool that exits),
// the spawn timeout, a Spot interruption and a StopTask behind berth's back, an
// unknown size (terminal until the spec changes), and a lack of capacity
// (retried as a new attempt).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { admin } from '../support/ecs-local.ts';
import {
  createInstance,
  createTool,
  type Env,
  eventsFor,
  getInstance,
  liveTasks,
  startEnv,
  tinySpec,
  waitFor,
  waitForPhase,
  waitForReadyAttempt,
} from './reconcile-support.ts';

let env: Env;

before(async () => {
  env = await startEnv({ addressOctet: 22 });
  await createTool(env.store, 'tiny', tinySpec());
  await createTool(env.store, 'nope', tinySpec({ image: 'example.org/does-not-exist:1.0' }));
  await createTool(env.store, 'exits', tinySpec({ image: 'berth/exit3:latest' }));
  await createTool(
    env.store,
    'silent',
    tinySpec({ image: 'berth/silent:latest', spawnTimeout: '2s' }),
  );
});

after(async () => {
  await env?.close();
});

/** Events are written next to the status; wait for one rather than expect it at the same instant. */
/** The pid of the running tool process of namespace `ns` (ecs-local's processes, told apart by their BERTH_NAMESPACE). */
async function toolPid(ns: string): Promise<number> {
  const res = await admin(env.ecsLocal, `/_ecs-local/processes`);
  const { processes } = (await res.json()) as { processes: { pid: number; running: boolean }[] };
  for (const p of processes.filter((x) => x.running)) {
    const environ = await readFile(`/proc/${p.pid}/environ`, 'latin1').catch(() => '');
    if (environ.split('\0').includes(`BERTH_NAMESPACE=${ns}`)) return p.pid;
  }
  throw new Error(`no running tool process for namespace ${ns}`);
}

async function waitForEvent(
  ns: string,
  name: string,
  type: string,
  reason: string,
): Promise<{ message: string }> {
  return waitFor(
    async () =>
      (await eventsFor(env.store, ns, name)).find((e) => e.type === type && e.reason === reason),
    5_000,
    `a ${type} Event ${reason} on ${ns}/${name}`,
  );
}

test('an image that cannot be pulled fails at once, with the pull error in plain words', async () => {
  const t0 = Date.now();
  await createInstance(env.store, 'u1', 'nope', 'nope');
  const ti = await waitForPhase(env.store, 'u1', 'nope', 'Failed', 10_000);
  assert.ok(Date.now() - t0 < 10_000, 'well before the 30 s spawn timeout');
  assert.equal(ti.status?.stopReason, 'ImagePullFailed');
  assert.match(
    ti.status!.message!,
    /^The image "example\.org\/does-not-exist:1\.0" could not be pulled: .*not found/,
  );
  const ready = ti.status?.conditions.find((c) => c.type === 'Ready');
  assert.equal(ready?.status, 'False');
  assert.equal(ready?.reason, 'ImagePullFailed');
  await waitForEvent('u1', 'nope', 'Warning', 'ImagePullFailed');
});

test('a tool that exits before it is ready fails at once with its exit code', async () => {
  await createInstance(env.store, 'u1', 'exits', 'exits');
  const ti = await waitForPhase(env.store, 'u1', 'exits', 'Failed', 10_000);
  assert.equal(ti.status?.stopReason, 'ToolExited');
  assert.equal(ti.status?.message, 'The tool exited with code 3 before it was ready');
});

test('a tool that never answers readiness fails with SpawnTimeout and its task is stopped', async () => {
  await createInstance(env.store, 'u1', 'silent', 'silent');
  const starting = await waitForPhase(env.store, 'u1', 'silent', 'Starting', 10_000);
  await waitFor(
    async () => !!(await getInstance(env.store, 'u1', 'silent')).status?.taskArn,
    5_000,
    'a task',
  );
  const taskArn = (await getInstance(env.store, 'u1', 'silent')).status!.taskArn!;
  assert.ok(starting);
  const ti = await waitForPhase(env.store, 'u1', 'silent', 'Failed', 15_000);
  assert.equal(ti.status?.stopReason, 'SpawnTimeout');
  assert.match(
    ti.status!.message!,
    /did not answer its readiness check \(GET \/healthz on port 8080\) within 2s/,
  );
  await waitFor(
    async () => (await env.driver.describeTasks([taskArn])).tasks[0]?.desiredStatus === 'STOPPED',
    5_000,
    'the timed-out task to be stopped',
  );
  await waitForEvent('u1', 'silent', 'Warning', 'SpawnTimeout');
  // berth stopped it: one audit entry, by the controllers, written with the status.
  const { rows } = await env.store.pool.query(
    `select actor, action, how, detail from audit_log
      where target_kind = 'ToolInstance' and target_namespace = 'u1' and target_name = 'silent'`,
  );
  assert.deepEqual(rows, [
    {
      actor: 'system:controllers',
      action: 'instance.stopped',
      how: 'controller',
      detail: { reason: 'SpawnTimeout', tool: 'silent' },
    },
  ]);
});

test('a Spot interruption of a ready tool: reason SpotInterruption, a Warning Event, and a new task, since the spec still says Running', async () => {
  await createInstance(env.store, 'u2', 'tiny', 'tiny');
  const ready = await waitForPhase(env.store, 'u2', 'tiny', 'Ready', 10_000);
  const id = ready.status!.taskArn!.split('/').at(-1);
  const res = await admin(env.ecsLocal, `/_ecs-local/tasks/${id}/spot-interruption`, {
    method: 'POST',
    body: JSON.stringify({ noticeSeconds: 0 }),
  });
  assert.ok(res.ok, await res.text());
  await waitForEvent('u2', 'tiny', 'Warning', 'SpotInterruption');
  // Level-triggered: the task was lost, not ended, so the instance runs again by itself.
  await waitForReadyAttempt(env.store, 'u2', 'tiny', 2);
  const ti = await getInstance(env.store, 'u2', 'tiny');
  assert.notEqual(ti.status?.taskArn, ready.status?.taskArn);
});

test('a task stopped behind berth’s back: a Warning Event naming who stopped it, and a new task, since the spec still says Running', async () => {
  await createInstance(env.store, 'u3', 'tiny', 'tiny');
  const ready = await waitForPhase(env.store, 'u3', 'tiny', 'Ready', 10_000);
  await env.driver.stopTask(ready.status!.taskArn!, 'an operator in the console');
  const event = await waitForEvent('u3', 'tiny', 'Warning', 'TaskStopped');
  assert.equal(event.message, 'The task was stopped outside berth: an operator in the console');
  await waitForReadyAttempt(env.store, 'u3', 'tiny', 2);
});

test('a tool that exits by itself stays Stopped until someone asks again (one write of spec.launchRequestedAt)', async () => {
  await createInstance(env.store, 'u6', 'tiny', 'tiny');
  const ready = await waitForPhase(env.store, 'u6', 'tiny', 'Ready', 10_000);
  assert.ok(ready.status?.taskArn);
  // The tool ends on its own with exit code 0 (the tiny tool exits 0 on SIGTERM),
  // as when a user shuts Jupyter down from its own menu.
  process.kill(await toolPid('u6'), 'SIGTERM');
  const stopped = await waitForPhase(env.store, 'u6', 'tiny', 'Stopped', 10_000);
  assert.equal(stopped.status?.stopReason, 'ToolExited');
  assert.equal(stopped.status?.attempt, 1);
  await env.store.patch('ToolInstance', 'u6', 'tiny', {
    spec: { launchRequestedAt: new Date().toISOString() },
  });
  await waitForReadyAttempt(env.store, 'u6', 'tiny', 2);
});

test('an unknown size fails with a clear message until the spec names a real one', async () => {
  await createInstance(env.store, 'u4', 'tiny', 'tiny', { size: 'huge' });
  const ti = await waitForPhase(env.store, 'u4', 'tiny', 'Failed', 10_000);
  assert.equal(ti.status?.stopReason, 'UnknownSize');
  assert.match(
    ti.status!.message!,
    /^Size "huge" is not one of the sizes of tool "tiny" \((small, large|large, small)\); set spec.size to one of them$/,
  );
  assert.equal(ti.status?.taskArn, undefined);
  await env.store.patch('ToolInstance', 'u4', 'tiny', { spec: { size: 'large' } });
  // Nothing but the spec change enqueues this reconcile (resync is off): it stalled 1
  // run in 3 under full load until a queued job claimed mid-enqueue stopped
  // swallowing it (see queue.test.ts).
  const ok = await waitForPhase(env.store, 'u4', 'tiny', 'Ready', 20_000);
  const { tasks } = await env.driver.describeTasks([ok.status!.taskArn!]);
  assert.equal(tasks[0]?.overrides?.cpu, '1024');
  assert.equal(tasks[0]?.overrides?.memory, '2048');
});

test('no capacity: an Event, then a new attempt that succeeds', async () => {
  const set = await admin(env.ecsLocal, `/_ecs-local/faults`, {
    method: 'POST',
    body: JSON.stringify({ capacityFailures: 1 }),
  });
  assert.equal(set.status, 200);
  await createInstance(env.store, 'u5', 'tiny', 'tiny');
  const ti = await waitForPhase(env.store, 'u5', 'tiny', 'Ready', 15_000);
  assert.equal(ti.status?.attempt, 2);
  const events = await eventsFor(env.store, 'u5', 'tiny');
  const failed = events.find((e) => e.reason === 'LaunchFailed');
  assert.ok(failed, JSON.stringify(events));
  assert.equal(failed.type, 'Warning');
  assert.match(failed.message, /ECS could not start a task \(.+\); trying again/);
  // One live task for the instance, whatever the attempts.
  const live = await liveTasks(env.driver);
  const { tasks } = await env.driver.describeTasks(live);
  const mine = tasks.filter((t) =>
    t.tags?.some((g) => g.key === 'berth:instance-uid' && g.value === ti.metadata.uid),
  );
  assert.equal(mine.length, 1);
});
