// controllers/culling/: the idle culler (see README.md).

export type { CpuQuery, CpuSamples, CpuSource } from './cpu-source.ts';
export {
  CULLER_LOCK,
  type Culler,
  type CullerOptions,
  type CullerSources,
  type CullPassResult,
  createCuller,
  METRICS_SIDECAR,
} from './culler.ts';
export { type CullPolicy, type DecideInput, type Decision, decide } from './decide.ts';
export { cullerMetrics } from './metrics.ts';
export { type CpuSourcesOptions, createCpuSources } from './sources.ts';
