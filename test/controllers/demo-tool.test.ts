// The demo tool (examples/demo) run as a Fargate task by ecs-local through
// examples/demo/images.yaml, launched through the ECS driver: it serves its page on
// the task's own address and echoes over a WebSocket.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { createEcsDriver, type EcsDriver, loadEcsConfig } from '../../controllers/index.ts';
import { type EcsLocal, startEcsLocal } from '../../ecs-local/index.ts';
import { ecsLocalEnv } from '../support/ecs-local.ts';
import { waitFor } from './ecs-support.ts';

const examples = join(import.meta.dirname, '..', '..', 'examples');
let ecsLocal: EcsLocal;
let driver: EcsDriver;

before(async () => {
  ecsLocal = await startEcsLocal({
    port: 0,
    imageMapPath: join(examples, 'demo', 'images.yaml'),
    addressOctet: 2,
  });
  const config = loadEcsConfig({
    ...ecsLocalEnv(ecsLocal),
    BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001',
    BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
  });
  driver = createEcsDriver({ config, registry: new Registry() });
});

after(async () => {
  driver?.close();
  await ecsLocal?.close();
});

test('the demo tool serves its page and echoes over a WebSocket', async () => {
  const demo = parse(readFileSync(join(examples, 'demo.yaml'), 'utf8'));
  const size = demo.spec.sizes[demo.spec.defaultSize];
  const { arn } = await driver.registerTaskDefinition({
    family: 'berth-demo',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: String(size.cpu),
    memory: String(size.memory),
    containerDefinitions: [
      {
        name: 'tool',
        image: demo.spec.image,
        essential: true,
        portMappings: [{ containerPort: demo.spec.port }],
        environment: demo.spec.env,
        stopTimeout: 5,
      },
    ],
  });
  const run = await driver.runTask({
    taskDefinition: arn,
    clientToken: 'demo-test-1',
    overrides: {
      containerOverrides: [
        { name: 'tool', environment: [{ name: 'BERTH_USER', value: 'analyst<1>' }] },
      ],
    },
  });
  assert.ok('task' in run, JSON.stringify(run));
  const taskArn = run.task.taskArn!;

  let ip = '';
  await waitFor(
    async () => {
      const { tasks } = await driver.describeTasks([taskArn]);
      const t = tasks[0];
      const eni = t?.attachments?.find((a) => a.type === 'ElasticNetworkInterface');
      ip = eni?.details?.find((d) => d.name === 'privateIPv4Address')?.value ?? '';
      return t?.lastStatus === 'RUNNING' && ip !== '';
    },
    10_000,
    'the demo task to be RUNNING with an address',
  );
  const base = `http://${ip}:${demo.spec.port}`;
  await waitFor(
    async () =>
      (await fetch(`${base}${demo.spec.readiness.path}`).catch(() => undefined))?.status === 200,
    10_000,
    'the readiness path to answer 200',
  );

  const page = await (await fetch(`${base}/`)).text();
  assert.match(
    page,
    /Hello, <span id="who">analyst&#60;1&#62;<\/span>/,
    'shows whose tool it is, escaped',
  );
  assert.match(page, /Hello from berth/, 'shows the definition environment');
  assert.match(page, new RegExp(`listening on ${ip.replaceAll('.', '\\.')}:${demo.spec.port}`));

  const ws = new WebSocket(`ws://${ip}:${demo.spec.port}/ws`);
  const echoed = new Promise<string>((resolve, reject) => {
    ws.onmessage = (e) => resolve(String(e.data));
    ws.onerror = () => reject(new Error('WebSocket error'));
  });
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('WebSocket did not open'));
  });
  ws.send('ping through berth');
  assert.equal(await echoed, 'ping through berth');
  ws.close();

  await driver.stopTask(taskArn, 'test done');
  await waitFor(
    async () => (await driver.describeTasks([taskArn])).tasks[0]?.lastStatus === 'STOPPED',
    10_000,
    'the demo task to stop',
  );
  const stopped = (await driver.describeTasks([taskArn])).tasks[0]!;
  assert.equal(stopped.stopCode, 'UserInitiated');
  // The demo exits on SIGTERM by itself (exit code 0), well before the stop timeout.
  assert.equal(stopped.containers?.[0]?.exitCode, 0);
});
