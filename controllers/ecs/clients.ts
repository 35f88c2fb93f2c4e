// Builds the ECS and EC2 SDK clients from the driver configuration. Retries are
// the SDK's standard strategy: throttling errors and 5xx answers are retried
// with backoff, other 4xx answers are not.
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { EcsDriverConfig } from './config.ts';

// ecs-local does not check signatures, but the SDK refuses to sign without credentials.
const LOCAL_CREDENTIALS = { accessKeyId: 'ecs-local', secretAccessKey: 'ecs-local' };

export function createClients(config: EcsDriverConfig): { ecs: ECSClient; ec2: EC2Client } {
  const common = { region: config.region, maxAttempts: config.maxAttempts, retryMode: 'standard' };
  const ecs = new ECSClient({ ...common, ...endpointOptions(config.endpoint) });
  const ec2 = new EC2Client({ ...common, ...endpointOptions(config.ec2Endpoint) });
  return { ecs, ec2 };
}

/**
 * An override on a loopback address is ecs-local, which takes any credentials;
 * any other override (a VPC endpoint, say) keeps the default credential chain.
 */
function endpointOptions(endpoint: string | undefined) {
  if (!endpoint) return {};
  return isLoopback(endpoint) ? { endpoint, credentials: LOCAL_CREDENTIALS } : { endpoint };
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
