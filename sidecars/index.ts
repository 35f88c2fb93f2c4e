// sidecars/: the programs that run beside a tool in its task. Only bin/ (the
// settings tables) and tests import this; each sidecar runs as its own process.
export {
  type GateConfig,
  gateConfigSchema,
  loadGateConfig,
  type RunningGate,
  startGate,
} from './gate/index.ts';
export {
  loadMetricsConfig,
  type MetricsConfig,
  metricsConfigSchema,
  startMetricsServer,
} from './metrics/index.ts';
export {
  DEFAULT_EXCLUDES,
  loadS3syncConfig,
  type S3syncConfig,
  s3syncConfigSchema,
} from './s3sync/index.ts';
