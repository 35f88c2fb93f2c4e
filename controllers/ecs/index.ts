// The ECS driver's public surface; the rest of controllers/ imports only this file.
export { createCloudWatchClient } from './clients.ts';
export type { AssignPublicIp, CapacityProvider, EcsDriverConfig } from './config.ts';
export { ecsConfigSchema, installationStartedBy, loadEcsConfig } from './config.ts';
export type { DescribeResult } from './describe-coalescer.ts';
export { DESCRIBE_TASKS_MAX, DescribeCoalescer, taskIdOf } from './describe-coalescer.ts';
export type {
  EcsDriverOptions,
  ListTasksRequest,
  RegisterResult,
  RunTaskRequest,
  RunTaskResult,
} from './driver.ts';
export { createEcsDriver, EcsDriver, INSTALLATION_TAG } from './driver.ts';
export type { BucketName, BucketSpec, EcsBuckets } from './ecs-buckets.ts';
export { createEcsBuckets, ECS_BUCKETS } from './ecs-buckets.ts';
export type { PreflightFinding } from './preflight.ts';
export { SecurityGroupGuard, UnsafeSecurityGroupError } from './security-group-guard.ts';
export {
  checkSecurityGroupRules,
  GATE_PORT,
  type IngressRule,
  type SecurityGroupRules,
} from './security-group-rules.ts';
export { CONTENT_HASH_TAG, taskDefinitionHash } from './task-definition-hash.ts';
export type { TokenBucketOptions } from './token-bucket.ts';
export { TokenBucket } from './token-bucket.ts';
