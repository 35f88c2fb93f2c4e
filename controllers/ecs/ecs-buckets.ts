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
  /** DescribeTasks, ListTasks, DescribeClusters, DescribeTaskDefinition, ListTaskDefinitions: burst 100, 20/s. */
  clusterRead: { capacity: 100, refillPerSecond: 20 },
  /** Fargate RunTask calls: 20/s, burst and sustained. One token per call. */
  fargateRunTask: { capacity: 20, refillPerSecond: 20 },
  /** Fargate task launches: burst 100, 20/s. One token per task launched (RunTask's count). */
  fargateTaskLaunch: { capacity: 100, refillPerSecond: 20 },
  /** RegisterTaskDefinition, DeregisterTaskDefinition: burst 20, 1/s. */
  taskDefinitionModify: { capacity: 20, refillPerSecond: 1 },
} as const satisfies Record<string, BucketSpec>;

export type BucketName = keyof typeof ECS_BUCKETS;
export type EcsBuckets = Record<BucketName, TokenBucket>;

/**
 * Our buckets hold less than ECS's (a quarter, at least two tokens); the refill
 * rate is ECS's. Requests reach ECS with varying delay: the first of a burst (new
 * connections, a busy event loop) can land after ones sent later, so a bucket of
 * exactly ECS's size runs ahead of ECS's and gets throttled. At 20/s each spare
 * token absorbs 50 ms of such skew; 5 spare tokens (250 ms) held on a loaded
 * 2-core CI machine where one (50 ms) did not. It costs part of the burst, never
 * the sustained rate.
 */
function withHeadroom(spec: BucketSpec): BucketSpec {
  const headroom = Math.max(2, Math.ceil(spec.capacity * 0.25));
  return { capacity: Math.max(1, spec.capacity - headroom), refillPerSecond: spec.refillPerSecond };
}

export function createEcsBuckets(
  overrides: Partial<Record<BucketName, BucketSpec>> = {},
): EcsBuckets {
  const out = {} as EcsBuckets;
  for (const name of Object.keys(ECS_BUCKETS) as BucketName[]) {
    out[name] = new TokenBucket(withHeadroom(overrides[name] ?? ECS_BUCKETS[name]));
  }
  return out;
}
