// Container dependencies (dependsOn): a container starts only once each of its
// dependencies holds (START, COMPLETE, SUCCESS, HEALTHY), and a dependency that
// never can stops the task without the dependent ever running.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { describeTask, ecsClient, runOne, waitFor, waitForStatus } from './helpers.ts';
import {
  fileCheck,
  recordDir,
  registerRecorders,
  removeRecordDirs,
  saw,
  startWithRecorder,
  when,
} from './recorder-kit.ts';

let ecsLocal: EcsLocal;
before(async () => {
  ecsLocal = await startWithRecorder();
});
after(async () => {
  await ecsLocal.close();
  removeRecordDirs();
});

test('a container that depends on another being HEALTHY starts only once its check passed', async () => {
  const ecs = ecsClient(ecsLocal);
  const dir = recordDir();
  const td = await registerRecorders(ecs, 'deps-healthy', dir, [
    {
      name: 'sidecar',
      env: { READY_AFTER_MS: '700' },
      // Failures before its first success, inside the start period, do not count.
      healthCheck: fileCheck('sidecar.ready', { startPeriod: 60 }),
    },
    { name: 'tool', dependsOn: [{ containerName: 'sidecar', condition: 'HEALTHY' }] },
  ]);
  const task = await runOne(ecs, td);
  const running = await waitForStatus(ecs, task.taskArn!, 'RUNNING', 20_000);
  await waitFor('the tool to have started', async () => saw(dir, 'tool'));
  // The tool saw the sidecar's ready marker at its own start: it waited for the check.
  assert.deepEqual(saw(dir, 'tool')?.ready, ['sidecar.ready']);
  assert.ok(when(dir, 'start', 'tool')! >= when(dir, 'ready', 'sidecar')!);
  assert.equal(running.containers!.find((c) => c.name === 'sidecar')!.healthStatus, 'HEALTHY');
});

test('START, COMPLETE and SUCCESS wait for a start, an exit and a clean exit', async () => {
  const ecs = ecsClient(ecsLocal);
  const dir = recordDir();
  const td = await registerRecorders(ecs, 'deps-order', dir, [
    { name: 'init', essential: false, env: { EXIT_AFTER_MS: '400', EXIT_CODE: '0' } },
    { name: 'first', dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] },
    { name: 'second', dependsOn: [{ containerName: 'first', condition: 'START' }] },
    {
      name: 'third',
      essential: false,
      dependsOn: [{ containerName: 'init', condition: 'COMPLETE' }],
    },
  ]);
  const task = await runOne(ecs, td);
  const running = await waitForStatus(ecs, task.taskArn!, 'RUNNING', 20_000);
  await waitFor('every container to have started', async () =>
    ['first', 'second', 'third'].every((n) => saw(dir, n)),
  );
  const initExit = when(dir, 'exit', 'init')!;
  assert.ok(initExit, 'init ran to completion');
  for (const name of ['first', 'second', 'third']) {
    assert.ok(when(dir, 'start', name)! >= initExit, `${name} started after init exited`);
  }
  const init = running.containers!.find((c) => c.name === 'init')!;
  assert.equal(init.lastStatus, 'STOPPED');
  assert.equal(init.exitCode, 0);
});

test('SUCCESS on a dependency that exits non-zero stops the task; the dependent never runs', async () => {
  const ecs = ecsClient(ecsLocal);
  const dir = recordDir();
  const td = await registerRecorders(ecs, 'deps-success-fails', dir, [
    { name: 'init', essential: false, env: { EXIT_AFTER_MS: '100', EXIT_CODE: '3' } },
    { name: 'app', dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] },
  ]);
  const task = await runOne(ecs, td);
  const stopped = await waitForStatus(ecs, task.taskArn!, 'STOPPED', 20_000);
  assert.equal(stopped.stopCode, 'TaskFailedToStart');
  assert.match(stopped.stoppedReason!, /ordering dependency \[init\] for target \[app\]/);
  assert.match(stopped.stoppedReason!, /did not exit successfully/);
  const app = stopped.containers!.find((c) => c.name === 'app')!;
  assert.equal(app.exitCode, 143);
  assert.match(app.reason!, /^CannotStartContainerError: dependency graph/);
  assert.equal(saw(dir, 'app'), undefined, 'the dependent never ran');
});

test('a HEALTHY dependency that exits before it is healthy stops the task; the dependent never runs', async () => {
  const ecs = ecsClient(ecsLocal);
  const dir = recordDir();
  const td = await registerRecorders(ecs, 'deps-dies', dir, [
    {
      name: 'sidecar',
      essential: false,
      env: { READY_AFTER_MS: '600000', EXIT_AFTER_MS: '300', EXIT_CODE: '1' },
      healthCheck: fileCheck('sidecar.ready', { startPeriod: 60 }),
    },
    { name: 'tool', dependsOn: [{ containerName: 'sidecar', condition: 'HEALTHY' }] },
  ]);
  const task = await runOne(ecs, td);
  const stopped = await waitForStatus(ecs, task.taskArn!, 'STOPPED', 20_000);
  assert.equal(stopped.stopCode, 'TaskFailedToStart');
  assert.match(stopped.stoppedReason!, /\[sidecar\] for target \[tool\] as dependency exited/);
  assert.equal(saw(dir, 'tool'), undefined, 'the dependent never ran');
});

test('a HEALTHY dependency that goes UNHEALTHY stops the task; the dependent never runs', async () => {
  const ecs = ecsClient(ecsLocal);
  const dir = recordDir();
  const td = await registerRecorders(ecs, 'deps-unhealthy', dir, [
    {
      name: 'sidecar',
      env: { READY_AFTER_MS: '600000' },
      healthCheck: fileCheck('sidecar.ready', { retries: 2 }),
    },
    { name: 'tool', dependsOn: [{ containerName: 'sidecar', condition: 'HEALTHY' }] },
  ]);
  const task = await runOne(ecs, td);
  const stopped = await waitForStatus(ecs, task.taskArn!, 'STOPPED', 20_000);
  assert.equal(stopped.stopCode, 'TaskFailedToStart');
  assert.match(
    stopped.stoppedReason!,
    /\[sidecar\] for target \[tool\] as dependency is unhealthy/,
  );
  assert.equal(saw(dir, 'tool'), undefined, 'the dependent never ran');
  const sidecar = (await describeTask(ecs, task.taskArn!)).containers!.find(
    (c) => c.name === 'sidecar',
  )!;
  assert.equal(sidecar.healthStatus, 'UNHEALTHY');
});
