// The mapping from the task metadata endpoint's documents to one scrape's figures,
// on documents shaped as Fargate's agent answers (cgroup v1 and v2) and as
// ecs-local does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MonotonicCounters,
  memoryInUse,
  snapshot,
  taskMetadataSchema,
  taskStatsSchema,
} from '../../../sidecars/metrics/index.ts';

const ARN = 'arn:aws:ecs:eu-west-2:000000000000:task/berth/0123456789abcdef0123456789abcdef';
const MiB = 1024 * 1024;

const task = taskMetadataSchema.parse({
  TaskARN: ARN,
  Limits: { CPU: 0.25, Memory: 512 },
  Containers: [
    { DockerId: 'a1', Name: 'tool', Limits: { CPU: 0 } },
    { DockerId: 'b2', Name: 'metrics', Limits: { CPU: 0, Memory: 64 } },
    { DockerId: 'c3', Name: 'gone', Limits: { CPU: 0 } },
  ],
});

test('figures per container: CPU in seconds, memory less its cache, limits, network and storage', () => {
  const stats = taskStatsSchema.parse({
    a1: {
      cpu_stats: { cpu_usage: { total_usage: 2_500_000_000 } },
      memory_stats: { usage: 300 * MiB, stats: { cache: 100 * MiB } }, // cgroup v1
      networks: { eth1: { rx_bytes: 1000, tx_bytes: 2000, rx_packets: 3 } },
      blkio_stats: {
        io_service_bytes_recursive: [
          { major: 259, minor: 0, op: 'Read', value: 10 },
          { major: 259, minor: 0, op: 'Write', value: 20 },
          { major: 259, minor: 0, op: 'Total', value: 30 },
          { major: 259, minor: 1, op: 'Read', value: 5 },
        ],
      },
    },
    b2: {
      cpu_stats: { cpu_usage: { total_usage: 1e9 } },
      memory_stats: { usage: 50 * MiB, stats: { inactive_file: 10 * MiB } }, // cgroup v2
      networks: { eth1: { rx_bytes: 1000, tx_bytes: 2000 } },
      blkio_stats: { io_service_bytes_recursive: null },
    },
    c3: null,
  });
  const s = snapshot(task, stats);
  assert.equal(s.task, '0123456789abcdef0123456789abcdef');
  assert.equal(s.cpuLimitCores, 0.25);
  assert.equal(s.memoryLimitBytes, 512 * MiB);
  assert.deepEqual(
    s.containers.map((c) => c.container),
    ['tool', 'metrics'],
    'a container without stats has no series',
  );
  const [tool, metrics] = s.containers;
  assert.equal(tool!.cpuSeconds, 2.5);
  assert.equal(tool!.memoryUsageBytes, 200 * MiB);
  assert.equal(tool!.memoryLimitBytes, 512 * MiB, "no limit of its own: the task's");
  assert.deepEqual(tool!.networks, [{ interface: 'eth1', rxBytes: 1000, txBytes: 2000 }]);
  assert.equal(tool!.readBytes, 15);
  assert.equal(tool!.writeBytes, 20);
  assert.equal(metrics!.memoryUsageBytes, 40 * MiB);
  assert.equal(metrics!.memoryLimitBytes, 64 * MiB);
  assert.equal(metrics!.readBytes, undefined, 'no storage figures: no storage series');
});

test('memory in use never goes below zero or above usage', () => {
  assert.equal(memoryInUse({ usage: 10, stats: { cache: 20 } }), 10);
  assert.equal(memoryInUse({ usage: 10 }), 10);
  assert.equal(memoryInUse({}), undefined);
});

test('a counter whose reading falls stays flat, then grows by what comes after', () => {
  const c = new MonotonicCounters();
  assert.equal(c.value('tool\0cpu', 10), 10);
  assert.equal(c.value('tool\0cpu', 12), 12);
  assert.equal(c.value('tool\0cpu', 1), 12, 'restarted: no reset, no double count');
  assert.equal(c.value('tool\0cpu', 4), 15);
  assert.equal(c.value('other\0cpu', 3), 3, 'each series on its own');
});
