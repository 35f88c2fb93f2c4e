// controllers/: the reconcilers, the work queue and the ECS driver. Other
// folders (bin/) import only this file.
export { ConfigError } from '../settings/index.ts';
export { type ControllerConfig, controllerConfigSchema, loadControllerConfig } from './config.ts';
export {
  type CredentialsConfig,
  createSecretReader,
  credentialsConfigSchema,
  DATASET_FINALIZER,
  loadCredentialsConfig,
  scramVerifier,
} from './credentials/index.ts';
export {
  type CpuQuery,
  type CpuSource,
  type Culler,
  type CullerSources,
  type CullPassResult,
  createCpuSources,
  createCuller,
  cullerMetrics,
} from './culling/index.ts';
export * from './ecs/index.ts';
export {
  createFiles,
  type Files,
  type FilesConfig,
  filesConfigSchema,
  filesPolicy,
  loadFilesConfig,
} from './files/index.ts';
export {
  type RunningControllers,
  type StartControllersOptions,
  startControllers,
} from './manager.ts';
export {
  type ControllerMetrics,
  controllerMetrics,
  type ReconcileOutcome,
} from './metrics.ts';
export { type MetricsServer, startMetricsServer } from './metrics-server.ts';
export {
  needsReconcile,
  PRIORITY,
  queueName,
  ReconcileQueue,
  type ReconcileQueueOptions,
  reconcileOnWrite,
} from './queue/index.ts';
export * from './reconcile.ts';
export {
  createToolControllers,
  loadReconcilerConfig,
  type ReconcilerConfig,
  reconcilerConfigSchema,
  type ToolControllers,
} from './reconcilers/index.ts';
