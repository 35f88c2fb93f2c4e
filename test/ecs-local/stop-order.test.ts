// Stop order: at STOPPING a container gets its SIGTERM only once every container
// that depends on it has exited (or was killed at its own stopTimeout), and its
// own stopTimeout runs from its own SIGTERM: a sidecar drains after the tool stopped.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { ecsClient, runOne, waitFor, waitForStatus } from './helpers.ts';
import {
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

test('a dependency gets SIGTERM only after its dependent has exited; each stopTimeout is its own', async () => {
  const ecs = ecsClient(ecsLocal);
  const dir = recordDir();
  const td = await registerRecorders(ecs, 'stop-order', dir, [
    // Drains for a second after SIGTERM; its 10 s stopTimeout leaves it time to.
    { name: 'sync', stopTimeout: 10, env: { TERM_DELAY_MS: '1000' } },
    // Ignores SIGTERM: killed at its own 2 s stopTimeout.
    {
      name: 'tool',
      stopTimeout: 2,
      env: { IGNORE_TERM: '1' },
      dependsOn: [{ containerName: 'sync', condition: 'START' }],
    },
    // Exits at once on SIGTERM, and depends on the tool: stops first of all.
    {
      name: 'helper',
      essential: false,
      dependsOn: [{ containerName: 'tool', condition: 'START' }],
    },
  ]);
  const task = await runOne(ecs, td);
  await waitForStatus(ecs, task.taskArn!, 'RUNNING');
  await waitFor('every container to have started', async () =>
    ['sync', 'tool', 'helper'].every((n) => saw(dir, n)),
  );
  await ecs.send(new StopTaskCommand({ task: task.taskArn! }));
  const stopped = await waitForStatus(ecs, task.taskArn!, 'STOPPED', 30_000);
  const helperExit = when(dir, 'exit', 'helper')!;
  const toolTerm = when(dir, 'term', 'tool')!;
  const syncTerm = when(dir, 'term', 'sync')!;
  assert.ok(helperExit <= toolTerm, 'the tool got SIGTERM after the helper exited');
  const gap = syncTerm - toolTerm;
  assert.ok(gap >= 1900, `sync got SIGTERM ${gap} ms after the tool (its 2 s stopTimeout)`);
  assert.ok(when(dir, 'exit', 'sync'), 'sync drained and exited by itself');
  const exit = (name: string) => stopped.containers!.find((c) => c.name === name)!.exitCode;
  assert.equal(exit('tool'), 137, 'the tool was killed at its stopTimeout');
  assert.equal(exit('sync'), 0, 'sync was not killed: its timeout ran from its own SIGTERM');
});
