// The IAM client of the file roles: IAM's endpoint override (ecs-local's URL
// locally), the configured key pair (ecs-local's) or else the SDK's default
// chain, the SDK's standard retries. IAM is global; the requests are signed for
// the files' region.
import { IAMClient } from '@aws-sdk/client-iam';
import type { FilesConfig } from './config.ts';

export function createIamClient(config: FilesConfig): IAMClient {
  return new IAMClient({
    region: config.region,
    maxAttempts: 5,
    retryMode: 'standard',
    ...(config.iamEndpoint ? { endpoint: config.iamEndpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
}
