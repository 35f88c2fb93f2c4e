// Container health checks: UNKNOWN until a check passes (failures inside the
// start period do not count), HEALTHY on a pass, UNHEALTHY after `retries`
// failures in a row, in DescribeTasks for the container and the task; CMD runs a
// program from the image's `bin`; a check past its timeout is killed and fails;
// no check process outlives its container.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { describeTask, ecsClient, pidExists, runOne, waitFor, waitForStatus } from './helpers.ts';
import {
  recordDir,
  registerRecorders,
  removeRecordDirs,
  startWithRecorder,
} from './recorder-kit.ts';

let ecsLocal: EcsLocal;
before(async () => {
  ecsLocal = await startWithRecorder();
});
after(async () => {
  await ecsLocal.close();
  removeRecordDirs();
});

async function health(arn: string): Promise<{ container: string; task: string }> {
  const t = await describeTask(ecsClient(ecsLocal), arn);
  return { container: t.containers![0]!.healthStatus!, task: t.healthStatus! };
}

test('health goes UNKNOWN -> HEALTHY -> UNHEALTHY, for the container and the task', async () => {
  const ecs = ecsClient(ecsLocal);
  const dir = recordDir();
  const td = await registerRecorders(ecs, 'health-cycle', dir, [
    {
      name: 'app',
      healthCheck: {
        // Counts its runs, passes while the test's `ok` file exists.
        command: ['CMD-SHELL', 'echo run >> "$RECORD_DIR/runs"; test -f "$RECORD_DIR/ok"'],
        interval: 5,
        timeout: 5,
        retries: 2,
        startPeriod: 300,
      },
    },
  ]);
  const task = await runOne(ecs, td);
  await waitForStatus(ecs, task.taskArn!, 'RUNNING');
  const runs = () =>
    existsSync(join(dir, 'runs'))
      ? readFileSync(join(dir, 'runs'), 'utf8').split('\n').length - 1
      : 0;
  // Three failed runs, more than `retries`, but inside the start period: still UNKNOWN.
  await waitFor('three check runs', async () => runs() >= 3);
  assert.deepEqual(await health(task.taskArn!), { container: 'UNKNOWN', task: 'UNKNOWN' });
  writeFileSync(join(dir, 'ok'), '');
  await waitFor('HEALTHY', async () => (await health(task.taskArn!)).container === 'HEALTHY');
  assert.equal((await health(task.taskArn!)).task, 'HEALTHY');
  // After a success the start period no longer shields failures: two in a row -> UNHEALTHY.
  rmSync(join(dir, 'ok'));
  await waitFor('UNHEALTHY', async () => (await health(task.taskArn!)).container === 'UNHEALTHY');
  assert.equal((await health(task.taskArn!)).task, 'UNHEALTHY');
  const running = await describeTask(ecs, task.taskArn!);
  assert.equal(running.lastStatus, 'RUNNING', 'an unhealthy container is not stopped by its task');
});

test('a CMD check runs the program the image map names in `bin`', async () => {
  const ecs = ecsClient(ecsLocal);
  const dir = recordDir();
  const td = await registerRecorders(ecs, 'health-bin', dir, [
    {
      name: 'app',
      env: { READY_AFTER_MS: '200' },
      // `probe` is not on PATH: only the image's bin table knows it (fixtures/probe.mjs).
      healthCheck: { command: ['CMD', 'probe'], interval: 5, timeout: 5, retries: 10 },
    },
  ]);
  const task = await runOne(ecs, td);
  await waitFor('HEALTHY', async () => (await health(task.taskArn!)).container === 'HEALTHY');
});

test('a check past its timeout is killed and fails; no check outlives its container', async () => {
  const ecs = ecsClient(ecsLocal);
  const dir = recordDir();
  const td = await registerRecorders(ecs, 'health-timeout', dir, [
    {
      name: 'app',
      healthCheck: {
        command: ['CMD-SHELL', 'echo $$ >> "$RECORD_DIR/checks"; sleep 600'],
        interval: 5,
        timeout: 2,
        retries: 1,
      },
    },
  ]);
  const task = await runOne(ecs, td);
  const checkPids = () =>
    existsSync(join(dir, 'checks'))
      ? readFileSync(join(dir, 'checks'), 'utf8').trim().split('\n').map(Number)
      : [];
  await waitFor('UNHEALTHY', async () => (await health(task.taskArn!)).container === 'UNHEALTHY');
  const first = checkPids()[0]!;
  assert.equal(pidExists(first), false, 'the timed-out check was killed');
  // Stop the task while a later check runs: it goes with its container.
  await waitFor('a second check to run', async () => checkPids().length >= 2);
  const running = checkPids().at(-1)!;
  await ecs.send(new StopTaskCommand({ task: task.taskArn! }));
  await waitForStatus(ecs, task.taskArn!, 'STOPPED');
  await waitFor('the running check to be gone', async () => !pidExists(running));
});
