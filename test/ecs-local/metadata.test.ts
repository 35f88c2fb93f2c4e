// The task metadata endpoint v4 a container finds at ECS_CONTAINER_METADATA_URI_V4,
// with real CPU and memory figures from /proc.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { ecsClient, runOne, start, TEST_IMAGES, waitFor, waitForStatus } from './helpers.ts';

// Writes 4 MiB to a file of its own on disk, syncs it, removes it, then idles.
const WRITER = `
const fs = require('node:fs');
const path = require('node:path').join(require('node:os').tmpdir(), 'ecs-local-writer-' + process.pid);
const fd = fs.openSync(path, 'w');
fs.writeSync(fd, Buffer.alloc(4 * 1024 * 1024, 7));
fs.fsyncSync(fd);
fs.closeSync(fd);
fs.unlinkSync(path);
setInterval(() => {}, 1e9);
`;

let ecsLocal: EcsLocal;
before(async () => {
  ecsLocal = await start({
    imageMap: { ...TEST_IMAGES, 'test/writer:1': { command: [process.execPath, '-e', WRITER] } },
  });
});
after(() => ecsLocal.close());

interface Stats {
  cpu_stats: { cpu_usage: { total_usage: number }; online_cpus: number; system_cpu_usage: number };
  precpu_stats: { cpu_usage: { total_usage: number } };
  memory_stats: { usage: number; limit: number };
  blkio_stats: { io_service_bytes_recursive: { op: string; value: number }[] };
  networks: Record<string, { rx_bytes: number; tx_bytes: number }>;
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

test("a container's storage writes and the host's loopback counters are in its stats", async () => {
  const ecs = ecsClient(ecsLocal);
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'writer',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '1024',
      memory: '2048',
      containerDefinitions: [
        { name: 'writer', image: 'test/writer:1' },
        { name: 'idle', image: 'test/idle:1', essential: false, memory: 128 },
      ],
    }),
  );
  const t = await runOne(ecs, 'writer');
  const running = await waitForStatus(ecs, t.taskArn!, 'RUNNING');
  const writer = running.containers!.find((c) => c.name === 'writer')!;
  const idle = running.containers!.find((c) => c.name === 'idle')!;
  const base = `${ecsLocal.url}/v4/${writer.runtimeId}`;
  const taskMeta = (await (await fetch(`${base}/task`)).json()) as {
    Limits: unknown;
    Containers: { Name: string; Limits: { Memory?: number } }[];
  };
  assert.deepEqual(taskMeta.Limits, { CPU: 1, Memory: 2048 });
  assert.equal(taskMeta.Containers.find((c) => c.Name === 'idle')?.Limits.Memory, 128);

  const written = (s: Stats) =>
    s.blkio_stats.io_service_bytes_recursive.find((e) => e.op === 'write')?.value ?? 0;
  const all = await waitFor('the 4 MiB written', async () => {
    const r = (await (await fetch(`${base}/task/stats`)).json()) as Record<string, Stats>;
    return written(r[writer.runtimeId!]!) >= 4 * 1024 * 1024 ? r : undefined;
  });
  assert.ok(
    written(all[idle.runtimeId!]!) < 1024 * 1024,
    `the idle container wrote ${written(all[idle.runtimeId!]!)} bytes`,
  );
  // The only interface a local process has to itself is the host's loopback, named so.
  const net = all[writer.runtimeId!]!.networks;
  assert.deepEqual(Object.keys(net), ['host-lo']);
  assert.ok(net['host-lo']!.rx_bytes > 0 && net['host-lo']!.tx_bytes > 0);
});
