// The task poller on its own: a real store and a real tool answering its
// readiness path, a driver that reports the task RUNNING, and no reconciler
// running, so the instance stays Starting and the poller keeps looking. It asks
// for the reconcile once per piece of news, not once per poll: in a burst, when
// reconciles lag, repeated requests only load the queue.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { Task } from '@aws-sdk/client-ecs';
import type { EcsDriver } from '../../controllers/index.ts';
import { createTaskPoller, Observations } from '../../controllers/reconcilers/index.ts';
import { API_VERSION, KINDS } from '../../crds/index.ts';
import { ResourceStore } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { waitFor } from '../support/wait.ts';
import { tinySpec } from './reconcile-support.ts';

let db: TestDatabase;
let store: ResourceStore;
let tool: Server;
let probes = 0;

before(async () => {
  db = await freshDatabase();
  store = new ResourceStore(db.pool, { kinds: [...KINDS] });
  tool = createServer((_req, res) => {
    probes++;
    res.end('ok');
  });
  await new Promise<void>((r) => tool.listen(0, '127.0.0.1', r));
});
after(async () => {
  tool.close();
  await store.close();
  await db.drop();
});

test('a starting task whose probe answers is enqueued once, and probed no more while that news is fresh', async () => {
  const port = (tool.address() as AddressInfo).port;
  await store.create('ToolDefinition', {
    apiVersion: API_VERSION,
    kind: 'ToolDefinition',
    metadata: { name: 'tiny' },
    spec: tinySpec({ port, readiness: { path: '/healthz', timeoutSeconds: 1, periodSeconds: 1 } }),
  });
  await store.create('ToolInstance', {
    apiVersion: API_VERSION,
    kind: 'ToolInstance',
    metadata: { name: 't1', namespace: 'alice' },
    spec: { toolRef: 'tiny', state: 'Running' },
  });
  const arn = 'arn:aws:ecs:eu-west-2:000000000000:task/berth/t1';
  await store.patchStatus('ToolInstance', 'alice', 't1', {
    status: { phase: 'Starting', taskArn: arn, attempt: 1, startedAt: new Date().toISOString() },
  });
  const task: Task = {
    taskArn: arn,
    lastStatus: 'RUNNING',
    attachments: [
      {
        type: 'ElasticNetworkInterface',
        details: [{ name: 'privateIPv4Address', value: '127.0.0.1' }],
      },
    ],
  };
  let describes = 0;
  const driver = {
    describeTasks: async () => {
      describes++;
      return { tasks: [task], failures: [] };
    },
  } as unknown as EcsDriver;
  const enqueued: string[] = [];
  const abort = new AbortController();
  const observations = new Observations();
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  const running = createTaskPoller({
    config: { pollIntervalMs: 100, readyPollIntervalMs: 30_000 },
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
    await waitFor(() => enqueued.length > 0, 10_000, 'the ready news enqueued');
    assert.equal(observations.readyEndpoint(arn, 10_000), `http://127.0.0.1:${port}`);
    // Many more polls (every 100 ms; the readiness period is 1 s) while the reconcile never comes.
    const seen = describes;
    await waitFor(() => describes >= seen + 3, 10_000, 'three more polls');
    assert.deepEqual(enqueued, ['alice/t1'], 'the same news is not sent again');
    assert.equal(probes, 1, 'a fresh answer is not asked for again');
  } finally {
    abort.abort();
    await running;
  }
});
