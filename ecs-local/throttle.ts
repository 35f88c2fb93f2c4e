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
  | 'taskDefinitionModify';

// The limits ECS documents (see the issue); configurable only so benches can vary them.
export const ECS_BUCKETS: Record<BucketName, BucketSpec> = {
  clusterModify: { burst: 100, perSecond: 40 },
  clusterRead: { burst: 100, perSecond: 20 },
  fargateRunTask: { burst: 20, perSecond: 20 },
  taskDefinitionModify: { burst: 20, perSecond: 1 },
};

export const OPERATION_BUCKETS: Record<string, BucketName> = {
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

  /** Takes `n` tokens if all are there (all or nothing); says whether it did. */
  take(n = 1, now = performance.now()): boolean {
    this.tokens = Math.min(
      this.spec.burst,
      this.tokens + ((now - this.last) / 1000) * this.spec.perSecond,
    );
    this.last = now;
    if (this.tokens < n) return false;
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

  /** False when the operation's bucket cannot pay `cost` tokens. */
  allow(operation: string, cost = 1): boolean {
    if (!this.enabled) return true;
    const name = OPERATION_BUCKETS[operation];
    if (!name) return true;
    return this.buckets.get(name)!.take(cost);
  }
}
