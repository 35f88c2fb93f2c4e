// Crash safety: a controller process is SIGKILLed between RunTask and the status
// write that records the task (held there by the `afterRunTask` test seam, see
// fixtures/controller-child.ts). A restarted controller finds the launch half
// done, adopts the task it finds by the instance's tags (or gets the same task
// back from RunTask's clientToken), and the instance ends Ready with exactly one
// task ever started for it.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import { ReconcileQueue, reconcileOnWrite } from '../../controllers/index.ts';
import { type EcsLocal, startEcsLocal } from '../../ecs-local/index.ts';
import { ResourceStore } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import {
  createInstance,
  createTool,
  eventsFor,
  examples,
  getInstance,
  makeDriver,
  tinySpec,
  waitFor,
  waitForPhase,
} from './reconcile-support.ts';
import { testImages } from './tiny-tool.ts';

let db: TestDatabase;
let ecsLocal: EcsLocal;
let queue: ReconcileQueue;
let store: ResourceStore;
const children: ChildProcess[] = [];

before(async () => {
  db = await freshDatabase();
  ecsLocal = await startEcsLocal({
    port: 0,
    imageMapPath: join(examples, 'demo', 'images.yaml'),
    imageMap: testImages(),
    addressOctet: 26,
    throttling: false,
  });
  // The writer side (as the API is): its writes enqueue reconciles.
  queue = await ReconcileQueue.start({
    pool: db.pool,
    kinds: ['ToolDefinition', 'ToolInstance'],
    role: 'producer',
  });
  store = new ResourceStore(db.pool, { onWrite: reconcileOnWrite(queue) });
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await queue?.stop().catch(() => {});
  await store?.close().catch(() => {});
  await ecsLocal?.close(500);
  await db?.drop();
});

function startController(pause: boolean): {
  child: ChildProcess;
  line(prefix: string): Promise<string>;
} {
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      join(import.meta.dirname, 'fixtures', 'controller-child.ts'),
    ],
    {
      env: {
        ...process.env,
        BERTH_TEST_DATABASE_URL: db.url,
        BERTH_TEST_ECS_ENDPOINT: ecsLocal.url,
        BERTH_TEST_ECS_ACCESS_KEY_ID: ecsLocal.credentials.accessKeyId,
        BERTH_TEST_ECS_SECRET_ACCESS_KEY: ecsLocal.credentials.secretAccessKey,
        BERTH_TEST_PAUSE_AFTER_RUNTASK: pause ? '1' : '0',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  return {
    child,
    line: async (prefix) => {
      let found = '';
      await waitFor(
        () => {
          found = out.split('\n').find((l) => l.startsWith(prefix)) ?? '';
          return found !== '';
        },
        20_000,
        `the controller to print ${prefix}`,
      );
      return found;
    },
  };
}

test('SIGKILL between RunTask and the status write: after a restart, exactly one task', async () => {
  await createTool(store, 'tiny', tinySpec());
  const first = startController(true);
  await first.line('STARTED');
  await createInstance(store, 'crash', 'tiny', 'tiny');
  const paused = await first.line('PAUSED ');
  const taskArn = paused.slice('PAUSED '.length);
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));

  // The half-done launch: attempt 1 written, no task ARN; the task runs in ECS.
  const half = await getInstance(store, 'crash', 'tiny');
  assert.equal(half.status?.phase, 'Starting');
  assert.equal(half.status?.attempt, 1);
  assert.equal(half.status?.taskArn, undefined);

  const second = startController(false);
  await second.line('STARTED');
  const ti = await waitForPhase(store, 'crash', 'tiny', 'Ready', 60_000);
  assert.equal(ti.status?.taskArn, taskArn, 'the task RunTask started before the crash');
  assert.equal(ti.status?.attempt, 1);

  const driver = makeDriver(ecsLocal, {}, new Registry());
  try {
    const running = await driver.listTasks({ startedBy: driver.startedBy });
    const stopped = await driver.listTasks({
      startedBy: driver.startedBy,
      desiredStatus: 'STOPPED',
    });
    assert.deepEqual(running, [taskArn]);
    assert.deepEqual(stopped, []);
  } finally {
    driver.close();
  }
  await waitFor(
    async () => (await eventsFor(store, 'crash', 'tiny')).some((e) => e.reason === 'TaskAdopted'),
    5_000,
    'a TaskAdopted Event',
  );
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.once('exit', r));
});
