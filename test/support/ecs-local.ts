// What a test needs to drive an ecs-local: it answers only requests signed with
// its key pair, so the controllers' settings and admin calls carry that pair.
import { type AccessKeyPair, type AdminRequest, adminFetch } from '../../ecs-local/index.ts';

export interface EcsLocalAddress {
  url: string;
  credentials: AccessKeyPair;
}

/** BERTH_ECS_* settings that point the ECS driver at this ecs-local, with its key pair. */
export function ecsLocalEnv(e: EcsLocalAddress): Record<string, string> {
  return {
    BERTH_ECS_ENDPOINT: e.url,
    BERTH_ECS_ACCESS_KEY_ID: e.credentials.accessKeyId,
    BERTH_ECS_SECRET_ACCESS_KEY: e.credentials.secretAccessKey,
  };
}

/** A signed request to its admin endpoint, e.g. `admin(e, '/_ecs-local/faults', { method: 'DELETE' })`. */
export function admin(e: EcsLocalAddress, path: string, init?: AdminRequest): Promise<Response> {
  return adminFetch(e.url, e.credentials, path, init);
}
