// controllers/credentials/: database credentials for tools. The engine
// (engine.ts and what it uses) makes the roles and grants in PostgreSQL; the
// reconcilers and hooks here decide when: Database and Dataset reconcilers, the
// launch/stop hooks of the ToolInstance reconciler, the login GC, and the watch
// that re-syncs every Dataset when a user's groups change.

import type { SecretReader } from './admin-credentials.ts';
import { AdminPools } from './admin-pools.ts';
import { type CredentialsConfig, loadCredentialsConfig } from './config.ts';
import { createDatabaseReconciler } from './database-reconciler.ts';
import { createDatasetReconciler } from './dataset-reconciler.ts';
import { createGroupWatch } from './group-watch.ts';
import { createInstanceCredentials } from './launch-credentials.ts';
import { createLoginGc } from './login-gc.ts';
import { RoleChangeQueue } from './role-queue.ts';

export type { SecretReader } from './admin-credentials.ts';
export { AdminPools } from './admin-pools.ts';
export {
  type CredentialsConfig,
  credentialsConfigSchema,
  loadCredentialsConfig,
} from './config.ts';
export { DATASET_FINALIZER } from './dataset-reconciler.ts';
export type { InstanceCredentials, LaunchCredentials } from './launch-credentials.ts';
export type { LoginGcPass } from './login-gc.ts';
export { scramVerifier } from './scram.ts';
export { type CachedSecretReader, createSecretReader } from './secrets-manager.ts';
export { databaseEnvironment, libpqDsn, libpqValue } from './tool-environment.ts';

export interface CredentialsControllersOptions {
  env: Record<string, string | undefined>;
  config?: Partial<CredentialsConfig>;
  readSecret?: SecretReader;
}

/** The Database and Dataset reconcilers, the launch/stop hooks, the login GC and the group watch, sharing one set of admin pools. */
export function createCredentialsControllers(o: CredentialsControllersOptions) {
  const config: CredentialsConfig = { ...loadCredentialsConfig(o.env), ...o.config };
  const pools = new AdminPools({
    sources: { env: o.env, ...(o.readSecret ? { readSecret: o.readSecret } : {}) },
  });
  const queue = new RoleChangeQueue();
  return {
    config,
    pools,
    reconcilers: {
      Database: createDatabaseReconciler(pools),
      Dataset: createDatasetReconciler(pools, queue),
    },
    instance: createInstanceCredentials(config, pools, queue),
    loginGc: createLoginGc(config, pools, queue),
    groupWatch: createGroupWatch(),
  };
}
