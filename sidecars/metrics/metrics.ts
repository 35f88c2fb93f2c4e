// The sidecar's Prometheus metrics (the contract in sidecars/metrics/README.md),
// in a registry of their own with no default process metrics (they would keep a
// timer running). Each scrape replaces every series with what the snapshot says,
// so a container that has gone leaves no stale series behind.
import { Counter, Gauge, Registry } from 'prom-client';
import { MonotonicCounters } from './monotonic.ts';
import type { Snapshot } from './snapshot.ts';

const TASK_LABELS = ['tool', 'user', 'tool_instance', 'task'] as const;
const CONTAINER_LABELS = [...TASK_LABELS, 'container'] as const;
const NETWORK_LABELS = [...CONTAINER_LABELS, 'interface'] as const;

export interface Identity {
  tool: string;
  user: string;
  instance: string;
}

export function sidecarMetrics(identity: Identity) {
  const registry = new Registry();
  const r = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: r });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers: r });

  const cpu = counter(
    'berth_container_cpu_seconds_total',
    'CPU time the container has used (user and system), in seconds.',
    CONTAINER_LABELS,
  );
  const memory = gauge(
    'berth_container_memory_usage_bytes',
    'Memory the container uses now, less page cache that can be reclaimed (as ECS Container Insights counts it).',
    CONTAINER_LABELS,
  );
  const memoryLimit = gauge(
    'berth_container_memory_limit_bytes',
    "The container's memory limit: its own if its definition gives one, else the task's.",
    CONTAINER_LABELS,
  );
  const rx = counter(
    'berth_container_network_receive_bytes_total',
    'Bytes received on the interface, as the task metadata endpoint reports them.',
    NETWORK_LABELS,
  );
  const tx = counter(
    'berth_container_network_transmit_bytes_total',
    'Bytes sent on the interface, as the task metadata endpoint reports them.',
    NETWORK_LABELS,
  );
  const read = counter(
    'berth_container_storage_read_bytes_total',
    'Bytes the container has read from storage.',
    CONTAINER_LABELS,
  );
  const write = counter(
    'berth_container_storage_write_bytes_total',
    'Bytes the container has written to storage.',
    CONTAINER_LABELS,
  );
  const cpuLimit = gauge(
    'berth_task_cpu_limit_cores',
    "The task's CPU size in vCPUs (1024 CPU units each).",
    TASK_LABELS,
  );
  const memoryLimitTask = gauge(
    'berth_task_memory_limit_bytes',
    "The task's memory size in bytes.",
    TASK_LABELS,
  );
  const all = [cpu, memory, memoryLimit, rx, tx, read, write, cpuLimit, memoryLimitTask];
  const monotonic = new MonotonicCounters();

  function update(s: Snapshot): void {
    for (const m of all) m.reset();
    const task = {
      tool: identity.tool,
      user: identity.user,
      tool_instance: identity.instance,
      task: s.task,
    };
    if (s.cpuLimitCores !== undefined) cpuLimit.set(task, s.cpuLimitCores);
    if (s.memoryLimitBytes !== undefined) memoryLimitTask.set(task, s.memoryLimitBytes);
    for (const c of s.containers) {
      const labels = { ...task, container: c.container };
      const mono = (series: string, raw: number) =>
        monotonic.value(`${c.container}\0${series}`, raw);
      cpu.inc(labels, mono('cpu', c.cpuSeconds));
      if (c.memoryUsageBytes !== undefined) memory.set(labels, c.memoryUsageBytes);
      if (c.memoryLimitBytes !== undefined) memoryLimit.set(labels, c.memoryLimitBytes);
      for (const n of c.networks) {
        const net = { ...labels, interface: n.interface };
        rx.inc(net, mono(`rx\0${n.interface}`, n.rxBytes));
        tx.inc(net, mono(`tx\0${n.interface}`, n.txBytes));
      }
      if (c.readBytes !== undefined) read.inc(labels, mono('read', c.readBytes));
      if (c.writeBytes !== undefined) write.inc(labels, mono('write', c.writeBytes));
    }
  }

  return { registry, update };
}

export type SidecarMetrics = ReturnType<typeof sidecarMetrics>;
