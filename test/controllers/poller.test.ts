// The task poller on its own, against the real ECS driver and ecs-local (its ECS
// throttling on): a real task whose tool answers its readiness path, and no
// reconciler running, so the instance stays Starting and the poller keeps looking.
// It asks for the reconcile once per piece of news, not once per poll: in a burst,
// when reconciles lag, repeated requests only load the queue.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import type { EcsDriver } from '../../controllers/index.ts';
import { createTaskPoller, Observations } from '../../controllers/reconcilers/index.ts';
import { KINDS } from '../../crds/index.ts';
import { type EcsLocal, startEcsLocal } from '../../ecs-local/index.ts';
import { ResourceStore } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { admin } from '../support/ecs-local.ts';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';
import { metricValue } from '../support/metrics.ts';
import { waitFor } from '../support/wait.ts';
import { taskDefinitionInput } from './ecs-support.ts';
import { makeDriver } from './reconcile-support.ts';

const PORT = 8080;
// A tool that answers every request and says so on its output, which ecs-local keeps.
const probeCounter = `
  require('node:http')
    .createServer((req, res) => { console.log('probe ' + req.url); res.end('ok'); })
    .listen(Number(process.env.PORT), process.env.HOST);
  process.on('SIGTERM', () => process.exit(0));
`;

let db: TestDatabase;
let store: ResourceStore;
let ecsLocal: EcsLocal;
let driver: EcsDriver;
const registry = new Registry();

before(async () => {
  db = await freshDatabase();
  store = new ResourceStore(db.pool, { kinds: [...KINDS] });
  ecsLocal = await startEcsLocal({
    port: 0,
    addressOctet: 43,
    throttling: true,
    imageMap: {
      'berth/probe-counter:latest': { command: process.execPath, args: ['-e', probeCounter] },
    },
  });
  driver = makeDriver(ecsLocal, {}, registry);
});
after(async () => {
  driver?.close();
  await ecsLocal?.close(500);
  await store?.close();
  await db?.drop();
});

/** Requests the tool has answered, from its output as ecs-local kept it. */
async function probes(taskArn: string): Promise<number> {
  const id = taskArn.split('/').at(-1)!;
  const res = await admin(ecsLocal, `/_ecs-local/tasks/${id}/containers/tool/logs`);
  return (await res.text()).split('\n').filter((l) => l.startsWith('probe /healthz')).length;
}

test('a starting task whose probe answers is enqueued once, and probed no more while that news is fresh', async () => {
  const { arn: taskDefinition } = await driver.registerTaskDefinition(
    taskDefinitionInput('probe-counter', {
      containerDefinitions: [
        {
          name: 'tool',
          image: 'berth/probe-counter:latest',
          essential: true,
          stopTimeout: 2,
          portMappings: [{ containerPort: PORT }],
        },
      ],
    }),
  );
  const run = await driver.runTask({ taskDefinition, clientToken: 'poller-test-1' });
  assert.ok('task' in run, `RunTask failed: ${JSON.stringify(run)}`);
  const arn = run.task.taskArn!;
  await store.create(
    'ToolDefinition',
    toolDefinition('probed', {
      image: 'berth/probe-counter:latest',
      port: PORT,
      readiness: { path: '/healthz', timeoutSeconds: 1, periodSeconds: 1 },
    }),
  );
  await store.create('ToolInstance', toolInstance('alice', 't1', 'probed', { state: 'Running' }));
  await store.patchStatus('ToolInstance', 'alice', 't1', {
    status: { phase: 'Starting', taskArn: arn, attempt: 1, startedAt: new Date().toISOString() },
  });

  const describes = () =>
    metricValue(registry, 'berth_ecs_calls_total', { operation: 'DescribeTasks' });
  const enqueued: string[] = [];
  const abort = new AbortController();
  const observations = new Observations();
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  const running = createTaskPoller({
    // No gate in this task: its "gate port" is the tool's own (the probe's secret header is ignored).
    config: {
      pollIntervalMs: 100,
      readyPollIntervalMs: 30_000,
      gatePort: PORT,
      toolSecretKey: Buffer.alloc(32, 7),
    },
    observations,
  }).start({
    store,
    driver,
    log: quiet,
    signal: abort.signal,
    now: () => new Date(),
    enqueue: async (key) => {
      enqueued.push(`${key.namespace}/${key.name}`);
    },
    recordEvent: async () => {},
  });
  try {
    // ecs-local takes the task through PROVISIONING and PENDING to RUNNING; the
    // poller sees it there and probes the tool at the task's own address.
    await waitFor(() => enqueued.length > 0, 30_000, 'the ready news enqueued');
    const endpoint = observations.readyEndpoint(arn, 10_000);
    assert.match(String(endpoint), new RegExp(`^http://127\\.43\\.\\d+\\.\\d+:${PORT}$`));
    assert.equal(await probes(arn), 1, 'the tool answered one probe');
    // Many more polls (every 100 ms; the readiness period is 1 s) while the reconcile never comes.
    const seen = await describes();
    await waitFor(async () => (await describes()) >= seen + 3, 20_000, 'three more polls');
    assert.deepEqual(enqueued, ['alice/t1'], 'the same news is not sent again');
    assert.equal(await probes(arn), 1, 'a fresh answer is not asked for again');
  } finally {
    abort.abort();
    await running;
  }
});
