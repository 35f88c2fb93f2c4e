// Task metadata endpoint v4, as the Fargate agent serves it at
// ECS_CONTAINER_METADATA_URI_V4: `<uri>`, `<uri>/task`, `<uri>/stats`,
// `<uri>/task/stats`. Stats are Docker-API-shaped with real figures from /proc.
import type { ServerResponse } from 'node:http';
import {
  loopbackCounters,
  onlineCpus,
  processTable,
  systemCpuNs,
  treeUsage,
} from './proc-stats.ts';
import { cpuUnits, memoryMiB } from './task-definitions.ts';
import type { ContainerRecord, TaskRecord } from './task-record.ts';
import type { TaskEngine } from './tasks.ts';

interface CpuSample {
  read: string;
  cpuNs: number;
  systemNs: number;
  maxMemory: number;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export class MetadataEndpoint {
  private readonly engine: TaskEngine;
  private readonly previous = new Map<string, CpuSample>();
  constructor(engine: TaskEngine) {
    this.engine = engine;
  }

  /** Answers `/v4/<runtimeId>[/task][/stats]`; false when the path is not ours. */
  handle(path: string, res: ServerResponse): boolean {
    const m = /^\/v4\/([^/]+)(\/task)?(\/stats)?\/?$/.exec(path);
    if (!m) return false;
    const found = this.engine.byContainerRuntimeId(m[1]!);
    if (!found) {
      send(res, 404, { error: 'unable to find container for the given v4 id' });
      return true;
    }
    const { task, container } = found;
    const wantsTask = m[2] !== undefined;
    const wantsStats = m[3] !== undefined;
    if (wantsTask && wantsStats) {
      const table = processTable(); // one walk of /proc for every container
      send(
        res,
        200,
        Object.fromEntries(task.containers.map((c) => [c.runtimeId, this.stats(task, c, table)])),
      );
    } else if (wantsTask) {
      send(res, 200, this.taskMetadata(task));
    } else if (wantsStats) {
      send(res, 200, this.stats(task, container));
    } else {
      send(res, 200, this.containerMetadata(task, container));
    }
    return true;
  }

  private containerMetadata(task: TaskRecord, c: ContainerRecord): Record<string, unknown> {
    const family = task.definition.family;
    const mem = c.override?.memory ?? c.def.memory;
    return {
      DockerId: c.runtimeId,
      Name: c.name,
      DockerName: `ecs-${family}-${task.definition.revision}-${c.name}`,
      Image: c.image,
      ImageID: `sha256:${'0'.repeat(64)}`,
      Labels: {
        'com.amazonaws.ecs.cluster': task.cluster.arn,
        'com.amazonaws.ecs.container-name': c.name,
        'com.amazonaws.ecs.task-arn': task.arn,
        'com.amazonaws.ecs.task-definition-family': family,
        'com.amazonaws.ecs.task-definition-version': String(task.definition.revision),
      },
      DesiredStatus: task.desiredStatus === 'RUNNING' ? 'RUNNING' : 'STOPPED',
      KnownStatus: c.lastStatus,
      Limits: {
        CPU: c.override?.cpu ?? c.def.cpu ?? 0,
        ...(mem === undefined ? {} : { Memory: mem }),
      },
      CreatedAt: iso(c.startedAt),
      StartedAt: iso(c.startedAt),
      FinishedAt: iso(c.finishedAt),
      ExitCode: c.exitCode,
      ...(c.health
        ? { Health: { status: c.health.status, statusSince: iso(c.health.since) } }
        : {}),
      ...(c.def.restartPolicy?.enabled ? { RestartCount: c.restartCount } : {}),
      Type: 'NORMAL',
      ContainerARN: c.arn,
      Networks: task.eni.ip
        ? [
            {
              NetworkMode: 'awsvpc',
              IPv4Addresses: [task.eni.ip],
              AttachmentIndex: 0,
              MACAddress: task.eni.mac,
              PrivateDNSName: `ip-${task.eni.ip.replaceAll('.', '-')}.${task.eni.availabilityZone.slice(0, -1)}.compute.internal`,
            },
          ]
        : [],
    };
  }

  private taskMetadata(task: TaskRecord): Record<string, unknown> {
    return {
      Cluster: task.cluster.arn,
      TaskARN: task.arn,
      Family: task.definition.family,
      Revision: String(task.definition.revision),
      DesiredStatus: task.desiredStatus,
      KnownStatus: task.lastStatus,
      Limits: {
        ...(task.cpu ? { CPU: cpuUnits(task.cpu) / 1024 } : {}),
        ...(task.memory ? { Memory: memoryMiB(task.memory) } : {}),
      },
      PullStartedAt: iso(task.pullStartedAt),
      PullStoppedAt: iso(task.pullStoppedAt),
      AvailabilityZone: task.eni.availabilityZone,
      LaunchType: 'FARGATE',
      Containers: task.containers.map((c) => this.containerMetadata(task, c)),
      ClockDrift: {
        ClockErrorBound: 0.5,
        ReferenceTimestamp: new Date().toISOString(),
        ClockSynchronizationStatus: 'SYNCHRONIZED',
      },
      EphemeralStorageMetrics: { Utilized: 0, Reserved: 20 * 1024 },
    };
  }

  private stats(
    task: TaskRecord,
    c: ContainerRecord,
    table?: ReturnType<typeof processTable>,
  ): Record<string, unknown> | null {
    const proc = c.process;
    if (!proc?.running) return null; // Docker answers null for a container with no stats
    const usage = treeUsage(proc.pid, table);
    const loopback = loopbackCounters();
    const now = new Date().toISOString();
    const systemNs = systemCpuNs();
    const cpus = onlineCpus();
    const prev = this.previous.get(c.runtimeId);
    const maxMemory = Math.max(prev?.maxMemory ?? 0, usage.memoryBytes);
    this.previous.set(c.runtimeId, { read: now, cpuNs: usage.cpuNs, systemNs, maxMemory });
    const memLimitMiB =
      c.override?.memory ?? c.def.memory ?? (task.memory ? memoryMiB(task.memory) : undefined);
    const cpuStats = (cpuNs: number, sys: number) => ({
      cpu_usage: { total_usage: cpuNs, usage_in_kernelmode: 0, usage_in_usermode: cpuNs },
      system_cpu_usage: sys,
      online_cpus: cpus,
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    });
    return {
      read: now,
      preread: prev?.read ?? '0001-01-01T00:00:00Z',
      id: c.runtimeId,
      name: `/ecs-${task.definition.family}-${task.definition.revision}-${c.name}`,
      num_procs: 0,
      pids_stats: { current: usage.threads },
      cpu_stats: cpuStats(usage.cpuNs, systemNs),
      precpu_stats: prev ? cpuStats(prev.cpuNs, prev.systemNs) : cpuStats(0, 0),
      memory_stats: {
        usage: usage.memoryBytes,
        max_usage: maxMemory,
        limit: memLimitMiB === undefined ? 0 : memLimitMiB * 1024 * 1024,
        stats: { rss: usage.memoryBytes, cache: 0, processes: usage.processes },
      },
      // Docker's per-device list; /proc/<pid>/io is not per device, so one entry
      // (device 0:0) per direction, lowercase as Docker writes them on cgroup v2.
      blkio_stats: {
        io_service_bytes_recursive: [
          { major: 0, minor: 0, op: 'read', value: usage.readBytes },
          { major: 0, minor: 0, op: 'write', value: usage.writeBytes },
        ],
      },
      // A local process shares ecs-local's network namespace: one task's own bytes
      // cannot be told apart without root, so this is the host's loopback interface,
      // named for what it is (every task's traffic on it), never passed off as eth1.
      networks: loopback ? { 'host-lo': loopback } : {},
    };
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
