// Where the culler reads a task's CPU use from. One read covers every instance
// the culler evaluates in a tick (batched: no call per instance per tick).
//   - prometheus: the metrics sidecar's series, scraped by Prometheus
//     (BERTH_PROMETHEUS_URL), for tools that run the `metrics` sidecar;
//   - ecs-task-stats: ECS task stats as CloudWatch Container Insights keeps them
//     (ECS/ContainerInsights CpuUtilized per TaskId), for every other tool.
// A source answers CPU as a percent of the task's CPU (its Fargate size), so
// the tool's cpuThreshold compares with it directly.

/** One instance whose CPU the culler wants. */
export interface CpuQuery {
  /** `namespace/name` of the ToolInstance: the key of the answer. */
  key: string;
  namespace: string;
  name: string;
  tool: string;
  /** The instance's current task (status.taskArn): samples of earlier tasks do not count. */
  taskArn: string;
  /** The task's CPU in Fargate units (1024 = one vCPU), from the instance's size. */
  cpuUnits: number;
}

/** Samples of one instance's CPU: `[time in ms, percent of the task's CPU]`, oldest first. */
export type CpuSamples = ReadonlyArray<readonly [number, number]>;

export interface CpuSource {
  readonly name: 'prometheus' | 'ecs-task-stats';
  /**
   * Samples in [sinceMs, nowMs], one per `stepMs` where the source has one. An
   * instance the source knows nothing of is absent from the answer; a failed
   * read throws (the culler then culls no one for Idle this tick).
   */
  read(
    queries: CpuQuery[],
    sinceMs: number,
    nowMs: number,
    stepMs: number,
  ): Promise<Map<string, CpuSamples>>;
}
