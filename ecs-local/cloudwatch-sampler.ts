// Container Insights' task metrics, sampled as the Fargate agent reports them:
// every period (ECS_LOCAL_METRICS_PERIOD_MS, on the period's boundaries) each
// running task's CPU (the CPU its containers' process trees used over the
// period, in CPU units: cores × 1024) and memory (their resident memory, MiB),
// read from /proc. Kept in memory, bounded: at most `maxSamples` per task and
// none older than `retentionMs`; a task's series goes `stoppedKeepMs` after it
// stopped running. The timer runs only while some task runs.
import { treeUsage } from './proc-stats.ts';
import { cpuUnits, memoryMiB } from './task-definitions.ts';
import type { TaskRecord } from './task-record.ts';

/** One period of one task: `t` is the period's start (epoch ms). */
export interface TaskSample {
  t: number;
  /** CPU units used (cores × 1024), averaged over the period. */
  cpu: number;
  /** Resident memory at the period's end, MiB. */
  memMiB: number;
}

export interface TaskSeries {
  cluster: string;
  family: string;
  taskId: string;
  /** The task's CPU (units) and memory (MiB), as CpuReserved and MemoryReserved report them. */
  cpuReserved: number;
  memoryReserved: number;
  /** Oldest first. */
  samples: TaskSample[];
}

interface Tracked extends TaskSeries {
  /** The last reading of each container: its process and CPU so far. */
  readings: Map<string, { pid: number; cpuNs: number }>;
  readAt: number;
  /** When it was last seen running (for dropping it an hour after it stopped). */
  seenAt: number;
  running: boolean;
}

export interface SamplerOptions {
  tasks: { all(): TaskRecord[] };
  periodMs: number;
  maxSamples?: number;
  retentionMs?: number;
  stoppedKeepMs?: number;
  now?: () => number;
}

const key = (cluster: string, family: string, taskId: string) => `${cluster}\n${family}\n${taskId}`;

export class TaskMetricsSampler {
  private readonly options: Required<Omit<SamplerOptions, 'tasks'>> & Pick<SamplerOptions, 'tasks'>;
  private readonly series = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: SamplerOptions) {
    this.options = {
      maxSamples: 1440,
      retentionMs: 24 * 3_600_000,
      stoppedKeepMs: 3_600_000,
      now: Date.now,
      ...options,
    };
  }

  /** A task's container started: sample from the next period boundary on. */
  wake(): void {
    if (this.timer || this.closed) return;
    this.schedule();
  }

  /** The series of one task, by Container Insights' three dimensions. */
  find(cluster: string, family: string, taskId: string): TaskSeries | undefined {
    this.prune(this.options.now());
    return this.series.get(key(cluster, family, taskId));
  }

  /** Whether the timer runs (it does only while a task runs). */
  get sampling(): boolean {
    return this.timer !== undefined;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const { periodMs, now } = this.options;
    const at = now();
    const next = (Math.floor(at / periodMs) + 1) * periodMs;
    this.timer = setTimeout(() => this.tick(next), next - at);
    this.timer.unref();
  }

  /** `boundary`: the period boundary this reading is for (the timer may fire a little off it). */
  private tick(boundary: number): void {
    this.timer = undefined;
    if (this.closed) return;
    const at = this.options.now();
    let anyRunning = false;
    for (const s of this.series.values()) s.running = false;
    for (const task of this.options.tasks.all()) {
      if (task.lastStatus === 'STOPPED') continue;
      const live = task.containers.filter((c) => c.process?.running);
      if (live.length === 0) continue;
      anyRunning = true;
      this.sample(task, live, at, boundary);
    }
    this.prune(at);
    if (anyRunning) this.schedule();
  }

  private sample(
    task: TaskRecord,
    live: TaskRecord['containers'],
    at: number,
    boundary: number,
  ): void {
    const k = key(task.cluster.name, task.definition.family, task.id);
    let s = this.series.get(k);
    if (!s) {
      const firstStart = Math.min(...live.map((c) => c.startedAt ?? at));
      s = {
        cluster: task.cluster.name,
        family: task.definition.family,
        taskId: task.id,
        cpuReserved: reservedCpu(task),
        memoryReserved: task.memory ? memoryMiB(task.memory) : 0,
        samples: [],
        readings: new Map(),
        readAt: firstStart,
        seenAt: at,
        running: true,
      };
      this.series.set(k, s);
    }
    s.running = true;
    s.seenAt = at;
    let cpuNs = 0;
    let memBytes = 0;
    const readings = new Map<string, { pid: number; cpuNs: number }>();
    for (const c of live) {
      const pid = c.process!.pid;
      const usage = treeUsage(pid);
      const before = s.readings.get(c.runtimeId);
      // A restarted container is a new process: all its CPU is new since the last reading.
      const same = before && before.pid === pid && usage.cpuNs >= before.cpuNs;
      cpuNs += same ? usage.cpuNs - before.cpuNs : usage.cpuNs;
      memBytes += usage.memoryBytes;
      readings.set(c.runtimeId, { pid, cpuNs: usage.cpuNs });
    }
    const elapsedMs = at - s.readAt;
    const { periodMs } = this.options;
    // Too short a first stretch (a task started just before a boundary) is too coarse
    // for /proc's 10 ms ticks: it only sets the baseline.
    if (s.samples.length === 0 && elapsedMs < periodMs / 4) {
      s.readings = readings;
      s.readAt = at;
      return;
    }
    if (elapsedMs > 0) {
      s.samples.push({
        // The period that ends at this boundary (Node's timers may fire a millisecond
        // before Date.now() reaches it, so the clock is not floored here).
        t: boundary - periodMs,
        cpu: (cpuNs / (elapsedMs * 1e6)) * 1024,
        memMiB: memBytes / (1024 * 1024),
      });
    }
    s.readings = readings;
    s.readAt = at;
  }

  private prune(at: number): void {
    const { maxSamples, retentionMs, stoppedKeepMs } = this.options;
    for (const [k, s] of this.series) {
      if (!s.running && at - s.seenAt > stoppedKeepMs) {
        this.series.delete(k);
        continue;
      }
      let drop = Math.max(0, s.samples.length - maxSamples);
      while (drop < s.samples.length && s.samples[drop]!.t < at - retentionMs) drop++;
      if (drop > 0) s.samples.splice(0, drop);
    }
  }
}

/** The task's CPU units; a task without a task-level size counts its containers'. */
function reservedCpu(task: TaskRecord): number {
  if (task.cpu) return cpuUnits(task.cpu);
  return task.containers.reduce((a, c) => a + (c.override?.cpu ?? c.def.cpu ?? 0), 0);
}
