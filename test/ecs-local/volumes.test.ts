// Task volumes: each is a fresh folder <volumesDir>/<taskId>/<volume>, shared by
// the containers that mount it and seen through their environment (a value equal
// to, or under, a mountPoint's containerPath names the local folder); gone once
// the task is STOPPED, and swept at start when a dead ecs-local left it.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { StopTaskCommand } from '@aws-sdk/client-ecs';
import { taskIdFrom } from '../../ecs-local/arns.ts';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { ecsClient, runOne, waitFor, waitForStatus } from './helpers.ts';
import {
  fileCheck,
  recordDir,
  registerRecorders,
  removeRecordDirs,
  saw,
  startWithRecorder,
} from './recorder-kit.ts';

const root = mkdtempSync(join(tmpdir(), 'ecs-local-voltest-'));
const instances: EcsLocal[] = [];
after(async () => {
  await Promise.all(instances.map((e) => e.close()));
  removeRecordDirs();
  rmSync(root, { recursive: true, force: true });
});

test('a volume shared by two containers, seen through their environment, is gone once the task stops', async () => {
  const volumesDir = join(root, 'shared');
  const ecsLocal = await startWithRecorder({ volumesDir });
  instances.push(ecsLocal);
  const ecs = ecsClient(ecsLocal);
  const dir = recordDir();
  const td = await registerRecorders(
    ecs,
    'volumes',
    dir,
    [
      {
        name: 'writer',
        mountPoints: [{ sourceVolume: 'home', containerPath: '/home/berth' }],
        env: { HOME: '/home/berth', WRITE_FILE: '/home/berth/notes/../hello.txt' },
        healthCheck: fileCheck('writer.ready', { startPeriod: 60 }),
      },
      {
        name: 'reader',
        mountPoints: [{ sourceVolume: 'home', containerPath: '/data', readOnly: true }],
        env: { DATA_DIR: '/data', READ_FILE: '/data/hello.txt', HOME: '/root' },
        dependsOn: [{ containerName: 'writer', condition: 'HEALTHY' }],
      },
    ],
    [{ name: 'home' }],
  );
  const task = await runOne(ecs, td);
  await waitForStatus(ecs, task.taskArn!, 'RUNNING');
  const reader = await waitFor('the reader to have started', async () => saw(dir, 'reader'));
  const folder = join(volumesDir, taskIdFrom(task.taskArn!), 'home');
  assert.equal(saw(dir, 'writer')?.home, folder, 'HOME names the local folder');
  assert.equal(reader.data, folder, 'the same volume, mounted elsewhere');
  assert.equal(reader.home, '/root', 'a value outside every mount is left alone');
  assert.equal(reader.read, 'written by writer');
  await ecs.send(new StopTaskCommand({ task: task.taskArn! }));
  await waitForStatus(ecs, task.taskArn!, 'STOPPED');
  assert.equal(existsSync(folder), false, 'the task storage went with the task');
  assert.equal(existsSync(join(volumesDir, taskIdFrom(task.taskArn!))), false);
});

test('a task folder a dead ecs-local left is removed at the next start', async () => {
  const stateDir = join(root, 'state');
  const left = join(stateDir, 'volumes', '0123456789abcdef0123456789abcdef');
  mkdirSync(join(left, 'home'), { recursive: true });
  writeFileSync(join(left, 'home', 'file'), 'left over');
  // An owner that is not alive (no such pid).
  writeFileSync(join(left, '.ecs-local-owner'), JSON.stringify({ pid: 2 ** 22 + 7, startTime: 1 }));
  const ecsLocal = await startWithRecorder({ stateDir });
  instances.push(ecsLocal);
  assert.equal(existsSync(left), false);
});
