// The metrics sidecar in a real ecs-local task, beside a container that burns
// CPU in two processes: its figures agree with what /proc says of the task's
// processes (within 5 %), its series carry the task's labels, and its ECS health
// check makes it HEALTHY in DescribeTasks.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import type { EcsLocal } from '../../../ecs-local/index.ts';
import {
  describeTask,
  ecsClient,
  runOne,
  start,
  TEST_IMAGES,
  waitForStatus,
} from '../../ecs-local/helpers.ts';
import { waitFor } from '../../support/wait.ts';
import { one, parseMetrics, type Sample } from './scrape.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');
const BURN = join(import.meta.dirname, 'fixtures', 'burn.mjs');
const BURN_MS = 800; // per process; two processes

let ecsLocal: EcsLocal;
before(async () => {
  ecsLocal = await start({
    imageMapPath: join(REPO, 'ecs-local', 'images.yaml'),
    imageMap: { ...TEST_IMAGES, 'test/burn:1': { command: [process.execPath, BURN] } },
    healthCheckIntervalMs: 200,
  });
});
after(() => ecsLocal?.close());

/** What /proc says of a process tree: CPU seconds (utime+stime+cutime+cstime) and VmRSS bytes. */
function procFigures(rootPid: number): { cpuSeconds: number; rssBytes: number; pids: number[] } {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i++)
    for (const [pid, ppid] of parent) if (ppid === pids[i]) pids.push(pid);
  let ticks = 0;
  let rss = 0;
  for (const pid of pids) {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    rss += Number(kb ?? 0) * 1024;
  }
  return { cpuSeconds: ticks / 100, rssBytes: rss, pids };
}

/** The root pid of the container named `name` (found by the metadata URI in its environment). */
async function containerPid(runtimeId: string): Promise<number> {
  for (const p of ecsLocal.processes()) {
    if (!p.running) continue;
    const environ = readFileSync(`/proc/${p.pid}/environ`, 'utf8');
    if (environ.includes(`ECS_CONTAINER_METADATA_URI_V4=${ecsLocal.url}/v4/${runtimeId}\0`))
      return p.pid;
  }
  throw new Error(`no process for container ${runtimeId}`);
}

const within5 = (what: string, metric: number, proc: number) =>
  assert.ok(
    Math.abs(metric - proc) <= 0.05 * proc,
    `${what}: the sidecar says ${metric}, /proc says ${proc}`,
  );

test('its CPU seconds and memory agree with /proc, with the task labels; its health check makes it HEALTHY', async () => {
  const ecs = ecsClient(ecsLocal);
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'metrics-burn',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '512',
      memory: '1024',
      containerDefinitions: [
        {
          name: 'burn',
          image: 'test/burn:1',
          essential: true,
          environment: [
            { name: 'BURN_MS', value: String(BURN_MS) },
            { name: 'BURN_CHILD', value: '1' },
          ],
        },
        {
          name: 'metrics',
          image: 'berth/metrics:latest',
          essential: false,
          portMappings: [{ containerPort: 8889 }],
          environment: [
            { name: 'BERTH_TOOL', value: 'demo' },
            { name: 'BERTH_USER', value: 'analyst1' },
            { name: 'BERTH_INSTANCE', value: 'demo-1' },
          ],
          healthCheck: {
            command: ['CMD', 'metrics', 'healthcheck'],
            interval: 5,
            timeout: 3,
            retries: 3,
          },
          restartPolicy: { enabled: true },
        },
      ],
    }),
  );
  const t = await runOne(ecs, 'metrics-burn');
  const running = await waitForStatus(ecs, t.taskArn!, 'RUNNING', 30_000);
  const ip = running.attachments![0]!.details!.find((d) => d.name === 'privateIPv4Address')!.value;
  const taskId = t.taskArn!.split('/').pop()!;
  const burn = running.containers!.find((c) => c.name === 'burn')!;

  const healthy = await waitFor(
    async () => {
      const d = await describeTask(ecs, t.taskArn!);
      const m = d.containers?.find((c) => c.name === 'metrics');
      return m?.healthStatus === 'HEALTHY' ? m : undefined;
    },
    30_000,
    'the metrics container HEALTHY in DescribeTasks',
  );
  assert.equal(healthy.healthStatus, 'HEALTHY');

  const scrape = async (): Promise<Sample[]> => {
    const r = await fetch(`http://${ip}:8889/metrics`);
    assert.equal(r.status, 200);
    return parseMetrics(await r.text());
  };
  const burnCpu = (s: Sample[]) =>
    one(s, 'berth_container_cpu_seconds_total', { container: 'burn' }).value;
  // Both processes have burned their share (/proc counts in 10 ms ticks, so
  // allow a few) and the figure holds still from one scrape to the next.
  let previous = -1;
  await waitFor(
    async () => {
      const now = burnCpu(await scrape());
      const still = now === previous;
      previous = now;
      return still && now >= (2 * BURN_MS) / 1000 - 0.05;
    },
    60_000,
    'the burn container to have used its CPU',
  );

  const pid = await containerPid(burn.runtimeId!);
  const before = procFigures(pid);
  const samples = await scrape();
  const afterwards = procFigures(pid);
  assert.equal(before.pids.length, 2, 'the container is a tree of two processes');
  const proc = {
    cpuSeconds: (before.cpuSeconds + afterwards.cpuSeconds) / 2,
    rssBytes: (before.rssBytes + afterwards.rssBytes) / 2,
  };
  const labels = { tool: 'demo', user: 'analyst1', tool_instance: 'demo-1', task: taskId };
  const cpu = one(samples, 'berth_container_cpu_seconds_total', { ...labels, container: 'burn' });
  within5('CPU seconds', cpu.value, proc.cpuSeconds);
  const mem = one(samples, 'berth_container_memory_usage_bytes', { ...labels, container: 'burn' });
  within5('memory', mem.value, proc.rssBytes);
  assert.ok(mem.value > 64 * 1024 * 1024, 'two processes holding 32 MiB each');

  // The task's size, and the sidecar's own container too.
  assert.equal(one(samples, 'berth_task_cpu_limit_cores', labels).value, 0.5);
  assert.equal(one(samples, 'berth_task_memory_limit_bytes', labels).value, 1024 * 1024 * 1024);
  assert.equal(
    one(samples, 'berth_container_memory_limit_bytes', { ...labels, container: 'burn' }).value,
    1024 * 1024 * 1024,
  );
  assert.ok(one(samples, 'berth_container_cpu_seconds_total', { container: 'metrics' }).value > 0);
  one(samples, 'berth_container_storage_write_bytes_total', { ...labels, container: 'burn' });
  one(samples, 'berth_container_network_receive_bytes_total', {
    ...labels,
    container: 'burn',
    interface: 'host-lo',
  });
  for (const s of samples) assert.equal(s.labels.tool_instance, 'demo-1', s.name);
});
