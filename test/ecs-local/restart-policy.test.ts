// Container restart policy: a container that exits is started again in place
// (same address, same environment, the task stays RUNNING), unless its exit code
// is ignored or it ran for less than restartAttemptPeriod; the metadata endpoint
// counts restarts (RestartCount), as ECS's does.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { describeTask, ecsClient, runOne, waitFor, waitForStatus } from './helpers.ts';
import {
  events,
  recordDir,
  registerRecorders,
  removeRecordDirs,
  saw,
  startWithRecorder,
} from './recorder-kit.ts';

const instances: EcsLocal[] = [];
after(async () => {
  await Promise.all(instances.map((e) => e.close()));
  removeRecordDirs();
});

async function metadata(ecsLocal: EcsLocal, runtimeId: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${ecsLocal.url}/v4/${runtimeId}`);
  return (await res.json()) as Record<string, unknown>;
}

test('a SIGKILLed container is restarted in place; an ignored exit code is not', async () => {
  // No wait before a restart may be attempted (ECS's minimum is 60 s).
  const ecsLocal = await startWithRecorder({ restartAttemptPeriodMs: 0 });
  instances.push(ecsLocal);
  const ecs = ecsClient(ecsLocal);
  const dir = recordDir();
  const td = await registerRecorders(ecs, 'restart', dir, [
    { name: 'app', restartPolicy: { enabled: true }, env: { GREETING: 'hello' } },
    {
      name: 'worker',
      essential: false,
      restartPolicy: { enabled: true, ignoredExitCodes: [0] },
      env: { EXIT_AFTER_MS: '100', EXIT_CODE: '0' },
    },
  ]);
  const task = await runOne(ecs, td);
  await waitForStatus(ecs, task.taskArn!, 'RUNNING');
  const first = await waitFor('app to have started', async () => saw(dir, 'app'));
  process.kill(first.pid, 'SIGKILL');
  const second = await waitFor('app to have started again', async () => {
    const s = saw(dir, 'app');
    return s && s.pid !== first.pid ? s : undefined;
  });
  assert.equal(second.host, first.host, 'same address');
  const t = await describeTask(ecs, task.taskArn!);
  assert.equal(t.lastStatus, 'RUNNING', 'the task went on');
  const app = t.containers!.find((c) => c.name === 'app')!;
  assert.equal(app.lastStatus, 'RUNNING');
  assert.equal((await metadata(ecsLocal, app.runtimeId!)).RestartCount, 1);
  const worker = await waitFor('the worker to have exited', async () => {
    const w = (await describeTask(ecs, task.taskArn!)).containers!.find((c) => c.name === 'worker');
    return w?.lastStatus === 'STOPPED' ? w : undefined;
  });
  assert.equal(worker.exitCode, 0);
  assert.equal((await metadata(ecsLocal, worker.runtimeId!)).RestartCount, 0);
  assert.equal(events(dir).filter((e) => e.event === 'start' && e.name === 'worker').length, 1);
});

test('a container that exits before restartAttemptPeriod is not restarted: its task stops', async () => {
  const ecsLocal = await startWithRecorder({ restartAttemptPeriodMs: 600_000 });
  instances.push(ecsLocal);
  const ecs = ecsClient(ecsLocal);
  const dir = recordDir();
  const td = await registerRecorders(ecs, 'restart-too-soon', dir, [
    { name: 'app', restartPolicy: { enabled: true }, env: { EXIT_AFTER_MS: '50', EXIT_CODE: '1' } },
  ]);
  const task = await runOne(ecs, td);
  const stopped = await waitForStatus(ecs, task.taskArn!, 'STOPPED');
  assert.equal(stopped.stopCode, 'EssentialContainerExited');
  assert.equal(stopped.containers![0]!.exitCode, 1);
});
