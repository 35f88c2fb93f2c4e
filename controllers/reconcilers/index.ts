// controllers/reconcilers/: the reconcilers by kind and the loops beside them
// (the task poller, the garbage collector). The machinery (controllers/manager.ts)
// runs them; this file wires the shared pieces together.
import {
  type CredentialsConfig,
  createCredentialsControllers,
  type LoginGcPass,
  type SecretReader,
} from '../credentials/index.ts';
import { createFiles, type Files, type FilesConfig } from '../files/index.ts';
import type { Reconciler, Runnable } from '../reconcile.ts';
import { loadReconcilerConfig, type ReconcilerConfig } from './config.ts';
import { createGarbageCollector } from './gc.ts';
import { Observations } from './observations.ts';
import { createTaskPoller } from './poller.ts';
import { createToolDefinitionReconciler } from './tooldefinition.ts';
import { createToolInstanceReconciler, type ReconcilerHooks } from './toolinstance.ts';

export type { ReconcilerConfig } from './config.ts';
export { loadReconcilerConfig, reconcilerConfigSchema } from './config.ts';
export { FINALIZER, STOP_REASON_ANNOTATION, TAG } from './ecs-task.ts';
export { explainStop, type StopExplanation } from './failure-reason.ts';
export type { GcPassResult } from './gc.ts';
export { createGarbageCollector } from './gc.ts';
export { Observations } from './observations.ts';
export { createTaskPoller } from './poller.ts';
export { probeReadiness } from './readiness-probe.ts';
export { buildTaskDefinition, TOOL_CONTAINER, taskDefinitionFamily } from './task-definition.ts';
export { createToolDefinitionReconciler, ensureTaskDefinition } from './tooldefinition.ts';
export { createToolInstanceReconciler, type ReconcilerHooks } from './toolinstance.ts';

export interface ToolControllersOptions {
  /** Over `loadReconcilerConfig(env)`. */
  config?: Partial<ReconcilerConfig>;
  /** Where the settings are read from; defaults to process.env. */
  env?: Record<string, string | undefined>;
  hooks?: ReconcilerHooks;
  /** Observes seconds from launch to ready (e.g. the time-to-ready histogram). */
  onReady?(seconds: number): void;
  /** Over `loadCredentialsConfig(env)` (the credentials key, the login GC). */
  credentials?: Partial<CredentialsConfig>;
  /** Reads a Database's admin secret from AWS Secrets Manager; absent: only `fromEnv` works. */
  readSecret?: SecretReader;
  /** Over `loadFilesConfig(env)` (the files bucket, S3 and IAM endpoints, the file roles' names). */
  files?: Partial<FilesConfig>;
}

export interface ToolControllers {
  /** By kind, as `startControllers({ reconcilers })` takes them. */
  reconcilers: {
    ToolDefinition: Reconciler;
    ToolInstance: Reconciler;
    Database: Reconciler;
    Dataset: Reconciler;
  };
  runnables: Runnable[];
  gc: ReturnType<typeof createGarbageCollector>;
  /** The database login GC (tests run a pass at will). */
  loginGc: Runnable & { runOnce(ctx: Parameters<Runnable['start']>[0]): Promise<LoginGcPass> };
  /** The settings they run with (tests derive a launch's tool secret from its key). */
  config: ReconcilerConfig;
  /** Users' files (the file roles); undefined while BERTH_FILES_BUCKET is unset. */
  files: Files | undefined;
}

/** The reconcilers (tools and data) and the poller and GCs, sharing one config and one observation cache. */
export function createToolControllers(options: ToolControllersOptions = {}): ToolControllers {
  const config: ReconcilerConfig = {
    ...loadReconcilerConfig(options.env ?? process.env),
    ...options.config,
  };
  const observations = new Observations();
  const files = createFiles(options.env ?? process.env, options.files);
  const gc = createGarbageCollector({ config });
  const credentials = createCredentialsControllers({
    env: options.env ?? process.env,
    ...(options.credentials ? { config: options.credentials } : {}),
    ...(options.readSecret ? { readSecret: options.readSecret } : {}),
  });
  return {
    reconcilers: {
      ToolDefinition: createToolDefinitionReconciler(config),
      ToolInstance: createToolInstanceReconciler({
        config,
        observations,
        hooks: options.hooks,
        onReady: options.onReady,
        credentials: credentials.instance,
        ...(files ? { files } : {}),
      }),
      ...credentials.reconcilers,
    },
    runnables: [
      createTaskPoller({ config, observations }),
      gc,
      credentials.loginGc,
      credentials.groupWatch,
    ],
    gc,
    loginGc: credentials.loginGc,
    config,
    files,
  };
}
