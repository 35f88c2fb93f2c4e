// ECS's account-level token buckets. Each operation draws from one bucket; an
// empty bucket answers ThrottlingException, as ECS does.
export interface BucketSpec {
  burst: number;
  perSecond: number;
}

export type BucketName =
  | 'clusterModify'
  | 'clusterRead'
  | 'fargateRunTask'
  | 'fargateTaskLaunch'
  | 'taskDefinitionModify';

// The limits ECS documents; configurable only so benches can vary them. Fargate has
// two: RunTask calls (20/s, burst and sustained, one token per call) and tasks
// launched (burst 100, refill 20/s, one token per task), per "AWS Fargate
// throttling quotas" in the ECS developer guide.
export const ECS_BUCKETS: Record<BucketName, BucketSpec> = {
  clusterModify: { burst: 100, perSecond: 40 },
  clusterRead: { burst: 100, perSecond: 20 },
  fargateRunTask: { burst: 20, perSecond: 20 },
  fargateTaskLaunch: { burst: 100, perSecond: 20 },
  taskDefinitionModify: { burst: 20, perSecond: 1 },
};

const OPERATION_BUCKETS: Record<string, BucketName> = {
  CreateCluster: 'clusterModify',
  StopTask: 'clusterModify',
  TagResource: 'clusterModify',
  UntagResource: 'clusterModify',
  DescribeClusters: 'clusterRead',
  DescribeTasks: 'clusterRead',
  ListTasks: 'clusterRead',
  DescribeTaskDefinition: 'clusterRead',
  ListTaskDefinitions: 'clusterRead',
  ListTagsForResource: 'clusterRead',
  RunTask: 'fargateRunTask',
  RegisterTaskDefinition: 'taskDefinitionModify',
  DeregisterTaskDefinition: 'taskDefinitionModify',
};

export class TokenBucket {
  readonly spec: BucketSpec;
  private tokens: number;
  private last: number;
  constructor(spec: BucketSpec, now = performance.now()) {
    this.spec = spec;
    this.tokens = spec.burst;
    this.last = now;
  }

  /** Whether `n` tokens are there now (after refilling). */
  has(n = 1, now = performance.now()): boolean {
    this.tokens = Math.min(
      this.spec.burst,
      this.tokens + ((now - this.last) / 1000) * this.spec.perSecond,
    );
    this.last = now;
    return this.tokens >= n;
  }

  /** Takes `n` tokens if all are there (all or nothing); says whether it did. */
  take(n = 1, now = performance.now()): boolean {
    if (!this.has(n, now)) return false;
    this.tokens -= n;
    return true;
  }
}

export class Throttle {
  private readonly buckets: Map<BucketName, TokenBucket>;
  enabled: boolean;
  constructor(enabled: boolean, specs: Record<BucketName, BucketSpec> = ECS_BUCKETS) {
    this.enabled = enabled;
    this.buckets = new Map(
      (Object.keys(specs) as BucketName[]).map((name) => [name, new TokenBucket(specs[name])]),
    );
  }

  /**
   * False when the operation's bucket cannot pay one token. RunTask also needs
   * `tasks` tokens from the Fargate launch bucket; nothing is taken unless both pay.
   */
  allow(operation: string, tasks = 1): boolean {
    if (!this.enabled) return true;
    const name = OPERATION_BUCKETS[operation];
    if (!name) return true;
    const bucket = this.buckets.get(name)!;
    if (operation !== 'RunTask') return bucket.take(1);
    const launch = this.buckets.get('fargateTaskLaunch')!;
    if (!bucket.has(1) || !launch.has(tasks)) return false;
    bucket.take(1);
    launch.take(tasks);
    return true;
  }
}
