// Stop codes and reasons as ECS gives them: pull failure, essential container
// exit, StopTask's SIGTERM-then-SIGKILL timing, Spot interruption, capacity.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { admin } from '../support/ecs-local.ts';
import {
  ecsClient,
  NETWORK,
  registerFargate,
  runOne,
  start,
  waitFor,
  waitForStatus,
} from './helpers.ts';

let ecsLocal: EcsLocal;
before(async () => {
  ecsLocal = await start();
});
after(() => ecsLocal.close());

test('an image missing from the image map fails the task as a failed pull', async () => {
  const ecs = ecsClient(ecsLocal);
  const td = await registerFargate(ecs, 'nopull', 'ghcr.io/nobody/nothing:9');
  const t = await runOne(ecs, td);
  const final = await waitForStatus(ecs, t.taskArn!, 'STOPPED');
  assert.equal(final.stopCode, 'TaskFailedToStart');
  assert.match(final.stoppedReason!, /^CannotPullContainerError: .*ghcr\.io\/nobody\/nothing:9/);
  assert.match(final.containers![0]!.reason!, /^CannotPullContainerError/);
  assert.equal(final.containers![0]!.exitCode, undefined);
  assert.equal(final.startedAt, undefined, 'never started');
});

test('an essential container that exits stops the task with its exit code', async () => {
  const ecs = ecsClient(ecsLocal);
  const td = await registerFargate(ecs, 'exits', 'test/exit:1', { command: ['3', '100'] });
  const t = await runOne(ecs, td);
  const final = await waitForStatus(ecs, t.taskArn!, 'STOPPED');
  assert.equal(final.stopCode, 'EssentialContainerExited');
  assert.equal(final.stoppedReason, 'Essential container in task exited');
  assert.equal(final.containers![0]!.exitCode, 3);
  assert.equal(final.containers![0]!.lastStatus, 'STOPPED');
});

test('a command override takes effect (exit code 7 instead of the definition’s 3)', async () => {
  const ecs = ecsClient(ecsLocal);
  const td = await registerFargate(ecs, 'exits-override', 'test/exit:1', { command: ['3'] });
  const t = await runOne(ecs, td, {
    overrides: { containerOverrides: [{ name: 'main', command: ['7'] }] },
  });
  const final = await waitForStatus(ecs, t.taskArn!, 'STOPPED');
  assert.equal(final.containers![0]!.exitCode, 7);
});

test('StopTask sends SIGTERM, then SIGKILL after the container stopTimeout (not before)', async () => {
  const ecs = ecsClient(ecsLocal);
  const td = await registerFargate(ecs, 'stubborn', 'test/ignore-term:1', { stopTimeout: 2 });
  const t = await runOne(ecs, td);
  await waitForStatus(ecs, t.taskArn!, 'RUNNING');
  const id = t.taskArn!.split('/').pop();
  const logsPath = `/_ecs-local/tasks/${id}/containers/main/logs`;
  await waitFor('the container to be ready', async () =>
    (await (await admin(ecsLocal, logsPath)).text()).includes('ready'),
  );
  await ecs.send(new StopTaskCommand({ task: t.taskArn! }));
  const final = await waitForStatus(ecs, t.taskArn!, 'STOPPED', 15_000);
  const logs = await (await admin(ecsLocal, logsPath)).text();
  const sigtermAt = Number(/SIGTERM at (\d+)/.exec(logs)?.[1]);
  assert.ok(sigtermAt > 0, `the container saw SIGTERM: ${logs}`);
  const killedAt = final.executionStoppedAt!.getTime();
  const waited = killedAt - sigtermAt;
  assert.ok(waited >= 1900, `SIGKILL not before the 2 s stop timeout (waited ${waited} ms)`);
  // Not a tight bound (a loaded machine delays timers): what it rules out is the
  // 30 s default stop timeout being used instead of the container's 2 s.
  assert.ok(
    waited < 15_000,
    `SIGKILL after the 2 s stop timeout, not the 30 s default (waited ${waited} ms)`,
  );
  assert.equal(final.containers![0]!.exitCode, 137, 'killed by SIGKILL: 128 + 9');
  assert.equal(final.stopCode, 'UserInitiated');
});

test('a Spot interruption sends SIGTERM at once and stops the task with SpotInterruption', async () => {
  const ecs = ecsClient(ecsLocal);
  const td = await registerFargate(ecs, 'spot', 'test/serve:1', { port: 8081 });
  const t = await runOne(ecs, td, {
    launchType: undefined,
    capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
  });
  assert.equal(t.capacityProviderName, 'FARGATE_SPOT');
  await waitForStatus(ecs, t.taskArn!, 'RUNNING');
  const id = t.taskArn!.split('/').pop();
  const logsPath = `/_ecs-local/tasks/${id}/containers/main/logs`;
  await waitFor('the container to listen', async () =>
    (await (await admin(ecsLocal, logsPath)).text()).includes('listening'),
  );
  const res = await admin(ecsLocal, `/_ecs-local/tasks/${id}/spot-interruption`, {
    method: 'POST',
    body: JSON.stringify({ noticeSeconds: 120 }),
  });
  assert.equal(res.status, 202);
  const final = await waitForStatus(ecs, t.taskArn!, 'STOPPED');
  assert.equal(final.stopCode, 'SpotInterruption');
  assert.equal(final.stoppedReason, 'Your Spot Task was interrupted.');
  assert.equal(final.containers![0]!.exitCode, 0, 'the container handled SIGTERM');
});

test('lack of capacity comes back in failures[], not as an error', async () => {
  const ecs = ecsClient(ecsLocal);
  const td = await registerFargate(ecs, 'cap', 'test/idle:1');
  const set = await admin(ecsLocal, `/_ecs-local/faults`, {
    method: 'POST',
    body: JSON.stringify({ capacityFailures: 2 }),
  });
  assert.equal(set.status, 200);
  const out = await ecs.send(
    new RunTaskCommand({
      taskDefinition: td,
      count: 3,
      launchType: 'FARGATE',
      networkConfiguration: NETWORK,
    }),
  );
  assert.equal(out.tasks!.length, 1);
  assert.equal(out.failures!.length, 2);
  assert.match(out.failures![0]!.reason!, /^Capacity is unavailable at this time/);
  await ecs.send(new StopTaskCommand({ task: out.tasks![0]!.taskArn! }));
  const bad = await admin(ecsLocal, `/_ecs-local/faults`, {
    method: 'POST',
    body: JSON.stringify({ serverErrorRate: 2 }),
  });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /serverErrorRate/);
});
