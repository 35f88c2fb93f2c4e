// The culler's CPU for tools without a metrics sidecar: ECS task stats as
// CloudWatch Container Insights keeps them (ECS/ContainerInsights CpuUtilized per
// ClusterName, TaskDefinitionFamily and TaskId; on AWS this needs Container
// Insights with enhanced observability on the cluster). One GetMetricData call
// per 500 instances (CloudWatch's limit), NextToken followed, so a tick costs
// ceil(n / 500) calls however many instances run.
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { CpuQuery, CpuSamples, CpuSource } from './cpu-source.ts';

/** CloudWatch's limit of queries in one GetMetricData call. */
export const GET_METRIC_DATA_MAX_QUERIES = 500;

export interface EcsTaskStatsOptions {
  client: CloudWatchClient;
  /** The tools' cluster: its name (an ARN is reduced to its name, as Container Insights names it). */
  clusterName: string;
  /** The task definition family a tool's tasks run from. */
  family: (tool: string) => string;
}

export function ecsTaskStatsCpuSource(options: EcsTaskStatsOptions): CpuSource {
  const cluster = options.clusterName.replace(/^arn:.*:cluster\//, '');
  return {
    name: 'ecs-task-stats',
    async read(queries, sinceMs, nowMs, stepMs) {
      const period = Math.max(1, Math.ceil(stepMs / 1000));
      const answer = new Map<string, CpuSamples>();
      for (let start = 0; start < queries.length; start += GET_METRIC_DATA_MAX_QUERIES) {
        const batch = queries.slice(start, start + GET_METRIC_DATA_MAX_QUERIES);
        const samples = await readBatch(options, cluster, batch, start, period, sinceMs, nowMs);
        for (const [key, list] of samples) answer.set(key, list);
      }
      return answer;
    },
  };
}

async function readBatch(
  options: EcsTaskStatsOptions,
  cluster: string,
  batch: CpuQuery[],
  offset: number,
  period: number,
  sinceMs: number,
  nowMs: number,
): Promise<Map<string, [number, number][]>> {
  // Ids CloudWatch accepts (a lowercase letter first), unique across the whole read.
  const byId = new Map<string, CpuQuery>();
  const metricQueries: MetricDataQuery[] = batch.map((q, i) => {
    const id = `q${offset + i}`;
    byId.set(id, q);
    return {
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: 'ECS/ContainerInsights',
          MetricName: 'CpuUtilized',
          Dimensions: [
            { Name: 'ClusterName', Value: cluster },
            { Name: 'TaskDefinitionFamily', Value: options.family(q.tool) },
            { Name: 'TaskId', Value: q.taskArn.split('/').pop()! },
          ],
        },
        Period: period,
        Stat: 'Average',
      },
    };
  });
  const out = new Map<string, [number, number][]>();
  let nextToken: string | undefined;
  do {
    const page = await options.client.send(
      new GetMetricDataCommand({
        MetricDataQueries: metricQueries,
        StartTime: new Date(sinceMs),
        EndTime: new Date(nowMs),
        ScanBy: 'TimestampAscending',
        NextToken: nextToken,
      }),
    );
    for (const r of page.MetricDataResults ?? []) {
      const q = r.Id ? byId.get(r.Id) : undefined;
      const times = r.Timestamps ?? [];
      const values = r.Values ?? [];
      // No size, no percent: such an instance has no samples (and is never stopped for Idle).
      if (!q || times.length === 0 || !(q.cpuUnits > 0)) continue;
      const list = out.get(q.key) ?? [];
      for (let i = 0; i < times.length && i < values.length; i++) {
        // CpuUtilized is in CPU units (1024 a vCPU): as a percent of the task's own.
        list.push([times[i]!.getTime(), (values[i]! / q.cpuUnits) * 100]);
      }
      out.set(q.key, list);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return out;
}
