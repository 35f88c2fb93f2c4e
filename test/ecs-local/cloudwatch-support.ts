// Shared by the CloudWatch tests: the real SDK client for an ecs-local, Container
// Insights' task dimensions, and a task's CPU read straight from /proc.
import { readdirSync, readFileSync } from 'node:fs';
import { CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { waitFor } from './helpers.ts';

export function cloudWatchClient(
  ecsLocal: Pick<EcsLocal, 'url' | 'credentials'>,
  credentials = ecsLocal.credentials,
): CloudWatchClient {
  return new CloudWatchClient({
    endpoint: ecsLocal.url,
    region: 'eu-west-2',
    credentials,
    maxAttempts: 1,
  });
}

export function taskDimensions(family: string, taskArn: string, cluster = 'default') {
  return [
    { Name: 'ClusterName', Value: cluster },
    { Name: 'TaskDefinitionFamily', Value: family },
    { Name: 'TaskId', Value: taskArn.split('/').pop()! },
  ];
}

export function insightsQuery(
  id: string,
  metric: string,
  dimensions: { Name: string; Value: string }[],
  period = 1,
  stat = 'Average',
): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'ECS/ContainerInsights', MetricName: metric, Dimensions: dimensions },
      Period: period,
      Stat: stat,
    },
  };
}

/** The pid of the container whose metadata URI ends in `runtimeId` (found through /proc's environ). */
export function pidOfContainer(runtimeId: string): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (
        env.some(
          (kv) => kv.startsWith('ECS_CONTAINER_METADATA_URI_V4=') && kv.endsWith(`/${runtimeId}`),
        )
      )
        return Number(name);
    } catch {
      // gone, or not ours to read
    }
  }
  throw new Error(`no process for container ${runtimeId}`);
}

/** utime + stime of one process, in ns (USER_HZ = 100). */
export function cpuNsOf(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 1e7;
}

/** Resident memory of one process, bytes. */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** Resolves just after the clock passes `ms` (a period boundary the sampler also reads at). */
export function clockPast(ms: number): Promise<number> {
  return waitFor(
    `the clock to pass ${new Date(ms).toISOString()}`,
    async () => {
      const now = Date.now();
      return now >= ms ? now : undefined;
    },
    ms - Date.now() + 10_000,
  );
}
