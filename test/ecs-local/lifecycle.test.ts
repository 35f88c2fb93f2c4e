// The task lifecycle through the real ECS SDK: states in order, the ENI address
// appearing only after PROVISIONING, the container listening on it, and StopTask.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { admin } from '../support/ecs-local.ts';
import {
  describeTask,
  ecsClient,
  registerFargate,
  runOne,
  start,
  waitFor,
  waitForStatus,
} from './helpers.ts';

const ORDER = [
  'PROVISIONING',
  'PENDING',
  'ACTIVATING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
];

let ecsLocal: EcsLocal;
before(async () => {
  ecsLocal = await start({
    delays: {
      provisioningMs: 150,
      pendingMs: 50,
      activatingMs: 50,
      deactivatingMs: 50,
      deprovisioningMs: 50,
    },
  });
});
after(() => ecsLocal.close());

const ipOf = (t: Task) =>
  t.attachments
    ?.find((a) => a.type === 'ElasticNetworkInterface')
    ?.details?.find((d) => d.name === 'privateIPv4Address')?.value;

test('a task goes through the ECS states in order, gets its address after PROVISIONING, and serves on it', async () => {
  const ecs = ecsClient(ecsLocal);
  const td = await registerFargate(ecs, 'web', 'test/serve:1', {
    port: 8080,
    environment: [{ name: 'GREETING', value: 'from-definition' }],
  });
  const launched = await runOne(ecs, td, {
    startedBy: 'berth-test',
    tags: [{ key: 'berth.instance', value: 'u1/jupyter' }],
    overrides: {
      containerOverrides: [
        { name: 'main', environment: [{ name: 'GREETING', value: 'from-override' }] },
      ],
    },
  });
  assert.match(
    launched.taskArn!,
    /^arn:aws:ecs:eu-west-2:000000000000:task\/default\/[0-9a-f]{32}$/,
  );
  assert.equal(launched.lastStatus, 'PROVISIONING');
  assert.equal(launched.desiredStatus, 'RUNNING');
  assert.equal(ipOf(launched), undefined, 'no address while PROVISIONING');
  assert.ok(
    launched.createdAt instanceof Date &&
      Math.abs(launched.createdAt.getTime() - Date.now()) < 5000,
  );

  const seen: string[] = [];
  const running = await waitFor('RUNNING', async () => {
    const t = await describeTask(ecs, launched.taskArn!);
    if (seen.at(-1) !== t.lastStatus) seen.push(t.lastStatus!);
    if (t.lastStatus === 'PROVISIONING') assert.equal(ipOf(t), undefined);
    else assert.ok(ipOf(t), `address present in ${t.lastStatus}`);
    return t.lastStatus === 'RUNNING' ? t : undefined;
  });
  const ip = ipOf(running)!;
  assert.match(ip, /^127\.\d+\.\d+\.\d+$/);
  assert.equal(running.containers![0]!.lastStatus, 'RUNNING');
  assert.equal(running.containers![0]!.networkInterfaces![0]!.privateIpv4Address, ip);
  assert.deepEqual(running.tags, [{ key: 'berth.instance', value: 'u1/jupyter' }]);
  assert.ok(running.startedAt instanceof Date);
  assert.equal(running.connectivity, 'CONNECTED');

  const reply = await waitFor('the container to answer', async () => {
    try {
      return (await (await fetch(`http://${ip}:8080/`)).json()) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  });
  assert.deepEqual(reply, {
    host: ip,
    port: '8080',
    greeting: 'from-override',
    metadata: `${ecsLocal.url}/v4/${running.containers![0]!.runtimeId}`,
  });

  const stopped = await ecs.send(
    new StopTaskCommand({ task: launched.taskArn!, reason: 'test done' }),
  );
  assert.equal(stopped.task!.desiredStatus, 'STOPPED');
  assert.equal(stopped.task!.stopCode, 'UserInitiated');
  const final = await waitFor('STOPPED', async () => {
    const t = await describeTask(ecs, launched.taskArn!);
    if (seen.at(-1) !== t.lastStatus) seen.push(t.lastStatus!);
    return t.lastStatus === 'STOPPED' ? t : undefined;
  });
  assert.equal(final.stopCode, 'UserInitiated');
  assert.equal(final.stoppedReason, 'test done');
  assert.deepEqual(final.tags, [], 'StopTask deletes the task tags');
  assert.equal(final.containers![0]!.exitCode, 0, 'the fixture exits 0 on SIGTERM');
  assert.equal(final.containers![0]!.lastStatus, 'STOPPED');
  assert.ok(final.stoppedAt instanceof Date && final.stoppingAt instanceof Date);

  // Every state observed appears in ECS's order; the ends are always observed.
  const positions = seen.map((s) => ORDER.indexOf(s));
  assert.ok(
    positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1]!)),
    `order: ${seen.join(' -> ')}`,
  );
  assert.ok(
    seen.includes('RUNNING') && seen.at(-1) === 'STOPPED' && seen[0] === 'PROVISIONING',
    seen.join(' -> '),
  );

  const logs = await (
    await admin(
      ecsLocal,
      `/_ecs-local/tasks/${launched.taskArn!.split('/').pop()}/containers/main/logs`,
    )
  ).text();
  assert.match(logs, /listening\n[\s\S]*got SIGTERM/);
});

test('a task stopped while PROVISIONING goes to STOPPED without ever getting an address', async () => {
  const ecs = ecsClient(ecsLocal);
  const td = await registerFargate(ecs, 'early-stop', 'test/idle:1');
  const t = await runOne(ecs, td);
  await ecs.send(new StopTaskCommand({ task: t.taskArn! }));
  const final = await waitForStatus(ecs, t.taskArn!, 'STOPPED');
  assert.equal(ipOf(final), undefined);
  assert.equal(final.stopCode, 'UserInitiated');
  assert.equal(final.stoppedReason, 'Task stopped by user');
});
