// The ECS and Fargate throttling buckets, as AWS documents them ("Request
// throttling for the Amazon ECS API" and "AWS Fargate throttling quotas"), held
// on berth's side so that berth never exceeds them in steady state.
import { TokenBucket } from './token-bucket.ts';

export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

export const ECS_BUCKETS = {
  /** RunTask, StopTask, TagResource, UntagResource: burst 100, 40/s. */
  clusterModify: { capacity: 100, refillPerSecond: 40 },
  /** DescribeTasks, ListTasks, DescribeClusters: burst 100, 20/s. */
  clusterRead: { capacity: 100, refillPerSecond: 20 },
  /** Fargate RunTask calls: 20/s, burst and sustained. One token per call. */
  fargateRunTask: { capacity: 20, refillPerSecond: 20 },
  /** Fargate task launches: burst 100, 20/s. One token per task launched (RunTask's count). */
  fargateTaskLaunch: { capacity: 100, refillPerSecond: 20 },
  /** RegisterTaskDefinition, DeregisterTaskDefinition: burst 20, 1/s. */
  taskDefinitionModify: { capacity: 20, refillPerSecond: 1 },
  /** DescribeTaskDefinition, ListTaskDefinitions: counted with the reads, burst 100, 20/s. */
  taskDefinitionRead: { capacity: 100, refillPerSecond: 20 },
} as const satisfies Record<string, BucketSpec>;

export type BucketName = keyof typeof ECS_BUCKETS;
export type EcsBuckets = Record<BucketName, TokenBucket>;

export function createEcsBuckets(overrides: Partial<Record<BucketName, BucketSpec>> = {}): EcsBuckets {
  const out = {} as EcsBuckets;
  for (const name of Object.keys(ECS_BUCKETS) as BucketName[]) {
    out[name] = new TokenBucket(overrides[name] ?? ECS_BUCKETS[name]);
  }
  return out;
}
