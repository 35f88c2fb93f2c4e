// The culler's CPU sources as `berth controller` builds them from its settings:
// ECS task stats (CloudWatch Container Insights, GetMetricData through the real
// SDK, at BERTH_CLOUDWATCH_ENDPOINT, which defaults to BERTH_ECS_ENDPOINT so
// ecs-local answers locally) for every tool, and Prometheus for tools with a
// `metrics` sidecar when BERTH_PROMETHEUS_URL is set.
import { createCloudWatchClient, type EcsDriverConfig } from '../ecs/index.ts';
import { taskDefinitionFamily } from '../reconcilers/task-definition.ts';
import { ecsTaskStatsCpuSource } from './cpu-ecs-task-stats.ts';
import { prometheusCpuSource } from './cpu-prometheus.ts';
import type { CullerSources } from './culler.ts';

export interface CpuSourcesOptions {
  ecs: EcsDriverConfig;
  /** BERTH_PROMETHEUS_URL; absent: sidecar tools' CPU comes from ECS task stats too. */
  prometheusUrl?: string | undefined;
}

export function createCpuSources(o: CpuSourcesOptions): {
  sources: CullerSources;
  close(): void;
} {
  const client = createCloudWatchClient(o.ecs);
  return {
    sources: {
      ...(o.prometheusUrl ? { prometheus: prometheusCpuSource({ url: o.prometheusUrl }) } : {}),
      ecsTaskStats: ecsTaskStatsCpuSource({
        client,
        clusterName: o.ecs.cluster,
        family: (tool) => taskDefinitionFamily(o.ecs.installationId, tool),
      }),
    },
    close: () => client.destroy(),
  };
}
