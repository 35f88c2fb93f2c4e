// Builds the ECS, EC2 and CloudWatch SDK clients from the driver configuration.
// Retries are the SDK's standard strategy: throttling errors and 5xx answers are
// retried with backoff, other 4xx answers are not. Credentials: the configured
// pair (ecs-local's, which checks every signature) or else the SDK's default chain.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { EcsDriverConfig } from './config.ts';

export function createClients(config: EcsDriverConfig): { ecs: ECSClient; ec2: EC2Client } {
  const ecs = new ECSClient({ ...common(config), ...endpointOptions(config.endpoint) });
  const ec2 = new EC2Client({ ...common(config), ...endpointOptions(config.ec2Endpoint) });
  return { ecs, ec2 };
}

/** CloudWatch, where the culler reads Container Insights' task metrics (GetMetricData). */
export function createCloudWatchClient(config: EcsDriverConfig): CloudWatchClient {
  return new CloudWatchClient({ ...common(config), ...endpointOptions(config.cloudwatchEndpoint) });
}

function common(config: EcsDriverConfig) {
  return {
    region: config.region,
    maxAttempts: config.maxAttempts,
    retryMode: 'standard',
    ...(config.credentials ? { credentials: config.credentials } : {}),
  };
}

function endpointOptions(endpoint: string | undefined) {
  return endpoint ? { endpoint } : {};
}
