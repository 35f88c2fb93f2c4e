// The task metadata endpoint v4 a container finds at ECS_CONTAINER_METADATA_URI_V4,
// with real CPU and memory figures from /proc.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { ecsClient, runOne, start, waitFor, waitForStatus } from './helpers.ts';

let ecsLocal: EcsLocal;
before(async () => {
  ecsLocal = await start();
});
after(() => ecsLocal.close());

interface Stats {
  cpu_stats: { cpu_usage: { total_usage: number }; online_cpus: number; system_cpu_usage: number };
  precpu_stats: { cpu_usage: { total_usage: number } };
  memory_stats: { usage: number; limit: number };
}

test('the metadata endpoint shows a busy container using more CPU than an idle one', async () => {
  const ecs = ecsClient(ecsLocal);
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'two',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '512',
      memory: '1024',
      containerDefinitions: [
        { name: 'busy', image: 'test/busy:1', memory: 256 },
        { name: 'idle', image: 'test/idle:1', essential: false },
      ],
    }),
  );
  const t = await runOne(ecs, 'two');
  const running = await waitForStatus(ecs, t.taskArn!, 'RUNNING');
  const busy = running.containers!.find((c) => c.name === 'busy')!;
  const idle = running.containers!.find((c) => c.name === 'idle')!;
  const uri = (runtimeId: string) => `${ecsLocal.url}/v4/${runtimeId}`;

  const containerMeta = (await (await fetch(uri(busy.runtimeId!))).json()) as Record<
    string,
    unknown
  >;
  assert.equal(containerMeta.DockerId, busy.runtimeId);
  assert.equal(containerMeta.Name, 'busy');
  assert.deepEqual((containerMeta.Networks as { IPv4Addresses: string[] }[])[0]!.IPv4Addresses, [
    running.attachments![0]!.details!.find((d) => d.name === 'privateIPv4Address')!.value,
  ]);
  const taskMeta = (await (await fetch(`${uri(busy.runtimeId!)}/task`)).json()) as Record<
    string,
    unknown
  >;
  assert.equal(taskMeta.TaskARN, t.taskArn);
  assert.equal(taskMeta.Family, 'two');
  assert.deepEqual(taskMeta.Limits, { CPU: 0.5, Memory: 1024 });
  assert.equal((taskMeta.Containers as unknown[]).length, 2);

  // Wait until the busy one has burned a measurable amount of CPU.
  const busyStats = await waitFor('busy CPU', async () => {
    const s = (await (await fetch(`${uri(busy.runtimeId!)}/stats`)).json()) as Stats;
    return s.cpu_stats.cpu_usage.total_usage > 300e6 ? s : undefined;
  });
  const idleStats = (await (await fetch(`${uri(idle.runtimeId!)}/stats`)).json()) as Stats;
  assert.ok(
    busyStats.cpu_stats.cpu_usage.total_usage > 2 * idleStats.cpu_stats.cpu_usage.total_usage,
    `busy ${busyStats.cpu_stats.cpu_usage.total_usage} ns vs idle ${idleStats.cpu_stats.cpu_usage.total_usage} ns`,
  );
  assert.ok(busyStats.memory_stats.usage > 1e6, 'real resident memory, in bytes');
  assert.equal(busyStats.memory_stats.limit, 256 * 1024 * 1024);
  assert.ok(busyStats.cpu_stats.online_cpus >= 1 && busyStats.cpu_stats.system_cpu_usage > 0);

  // A second read carries the first as precpu_stats, so a rate can be computed as Docker does.
  const second = (await (await fetch(`${uri(busy.runtimeId!)}/stats`)).json()) as Stats;
  assert.equal(
    second.precpu_stats.cpu_usage.total_usage,
    busyStats.cpu_stats.cpu_usage.total_usage,
  );

  const taskStats = (await (await fetch(`${uri(idle.runtimeId!)}/task/stats`)).json()) as Record<
    string,
    Stats
  >;
  assert.deepEqual(Object.keys(taskStats).sort(), [busy.runtimeId, idle.runtimeId].sort());

  const unknown = await fetch(`${ecsLocal.url}/v4/nope`);
  assert.equal(unknown.status, 404);
});
