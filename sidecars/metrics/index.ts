// sidecars/metrics/: the task's CPU, memory, network and storage in Prometheus format (see README.md).
export { loadMetricsConfig, type MetricsConfig, metricsConfigSchema } from './config.ts';
export { MonotonicCounters } from './monotonic.ts';
export { type MetricsServer, startMetricsServer } from './server.ts';
export { type ContainerSample, memoryInUse, type Snapshot, snapshot } from './snapshot.ts';
export { taskMetadataSchema, taskStatsSchema } from './task-metadata.ts';
