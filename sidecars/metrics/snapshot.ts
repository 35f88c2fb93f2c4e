// What one scrape reports, mapped from the task metadata endpoint's two documents
// (pure: no I/O, so the mapping is tested on its own).
import type { ContainerStats, TaskMetadata, TaskStats } from './task-metadata.ts';

const MiB = 1024 * 1024;

export interface ContainerSample {
  container: string;
  /** Raw counter readings; the sidecar makes them monotonic (monotonic.ts). */
  cpuSeconds: number;
  networks: { interface: string; rxBytes: number; txBytes: number }[];
  readBytes: number | undefined;
  writeBytes: number | undefined;
  memoryUsageBytes: number | undefined;
  /** The container's own limit, else the task's: what its cgroup is held to. */
  memoryLimitBytes: number | undefined;
}

export interface Snapshot {
  /** The task id: the last part of the TaskARN. */
  task: string;
  cpuLimitCores: number | undefined;
  memoryLimitBytes: number | undefined;
  containers: ContainerSample[];
}

export function taskId(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

/**
 * Memory in use as ECS's Container Insights counts it: the cgroup's usage less
 * the page cache that can be dropped (cgroup v1 reports it as `cache`, v2 as
 * `inactive_file`); what the stats give when they carry neither.
 */
export function memoryInUse(m: ContainerStats['memory_stats']): number | undefined {
  if (m.usage === undefined) return undefined;
  const s = m.stats ?? {};
  const reclaimable = s.cache ?? s.inactive_file ?? 0;
  return reclaimable < m.usage ? m.usage - reclaimable : m.usage;
}

/** Bytes read and written, summed over devices (`Read`/`Write` on cgroup v1, `read`/`write` on v2). */
function storage(stats: ContainerStats): { read: number; write: number } | undefined {
  const entries = stats.blkio_stats?.io_service_bytes_recursive;
  if (!entries) return undefined;
  let read = 0;
  let write = 0;
  for (const e of entries) {
    const op = e.op.toLowerCase();
    if (op === 'read') read += e.value;
    else if (op === 'write') write += e.value;
  }
  return { read, write };
}

export function snapshot(task: TaskMetadata, stats: TaskStats): Snapshot {
  const taskMemory = task.Limits?.Memory === undefined ? undefined : task.Limits.Memory * MiB;
  const containers: ContainerSample[] = [];
  for (const c of task.Containers) {
    const s = stats[c.DockerId];
    if (!s) continue; // stopped or not started: no stats, no series
    const io = storage(s);
    const ownMemory = c.Limits?.Memory ? c.Limits.Memory * MiB : undefined;
    containers.push({
      container: c.Name,
      cpuSeconds: s.cpu_stats.cpu_usage.total_usage / 1e9,
      networks: Object.entries(s.networks ?? {}).map(([name, n]) => ({
        interface: name,
        rxBytes: n.rx_bytes,
        txBytes: n.tx_bytes,
      })),
      readBytes: io?.read,
      writeBytes: io?.write,
      memoryUsageBytes: memoryInUse(s.memory_stats),
      memoryLimitBytes: ownMemory ?? taskMemory,
    });
  }
  return {
    task: taskId(task.TaskARN),
    cpuLimitCores: task.Limits?.CPU,
    memoryLimitBytes: taskMemory,
    containers,
  };
}
