// Reads Databases' admin credentials from AWS Secrets Manager with the SDK,
// configured as the ECS clients are (region, key pair or the SDK's default chain,
// retries; BERTH_SECRETS_MANAGER_ENDPOINT, else BERTH_ECS_ENDPOINT, for
// ecs-local). Values are cached for a few minutes: a reconcile or a launch must
// not cost a Secrets Manager call each, and a rotated secret is read again after
// an authentication failure anyway (admin-pools.ts forgets the pool and the caller
// can call `forget`).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadEcsConfig } from '../ecs/config.ts';
import type { SecretReader } from './admin-credentials.ts';

export const SECRET_CACHE_MS = 5 * 60_000;

export interface CachedSecretReader extends SecretReader {
  /** Drops the cached value of `arn` (all of them without one): the next read asks AWS. */
  forget(arn?: string): void;
  /** Closes the SDK client's connections. */
  close(): void;
}

interface Cached {
  value: string;
  until: number;
}

/** A SecretReader over the SDK; throws ConfigError when the AWS settings are bad. */
export function createSecretReader(
  env: Record<string, string | undefined> = process.env,
  options: { cacheMs?: number; now?: () => number } = {},
): CachedSecretReader {
  const config = loadEcsConfig(env);
  const client = new SecretsManagerClient({
    region: config.region,
    maxAttempts: config.maxAttempts,
    retryMode: 'standard',
    ...(config.credentials ? { credentials: config.credentials } : {}),
    ...(config.secretsManagerEndpoint ? { endpoint: config.secretsManagerEndpoint } : {}),
  });
  const cacheMs = options.cacheMs ?? SECRET_CACHE_MS;
  const now = options.now ?? Date.now;
  const cache = new Map<string, Cached>();
  // Concurrent reads of one secret share one call.
  const inFlight = new Map<string, Promise<string>>();
  const read = async (arn: string): Promise<string> => {
    const hit = cache.get(arn);
    if (hit && hit.until > now()) return hit.value;
    const pending = inFlight.get(arn);
    if (pending) return await pending;
    const call = (async () => {
      const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      if (out.SecretString === undefined) {
        const err = new Error('the secret holds binary data, not a SecretString');
        err.name = 'SecretNotText';
        throw err;
      }
      cache.set(arn, { value: out.SecretString, until: now() + cacheMs });
      return out.SecretString;
    })();
    inFlight.set(arn, call);
    try {
      return await call;
    } finally {
      inFlight.delete(arn);
    }
  };
  return Object.assign(read, {
    forget(arn?: string) {
      if (arn === undefined) cache.clear();
      else cache.delete(arn);
    },
    close() {
      client.destroy();
    },
  });
}
