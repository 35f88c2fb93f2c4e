// The driver's Prometheus metrics. Several drivers may share one registry (tests,
// or a daemon that builds the driver twice), so an existing metric is reused.
import { Counter, register as defaultRegistry, Histogram, type Registry } from 'prom-client';

export interface EcsMetrics {
  /** One per SDK call after its retries: outcome ok, failure (ECS failures[] in the answer) or error. */
  calls: Counter<'operation' | 'outcome'>;
  /** One per HTTP attempt ECS answered with ThrottlingException (the SDK retries these). */
  throttled: Counter<'operation'>;
  /** Time callers waited for client-side tokens. */
  throttleWait: Histogram<'bucket'>;
}

export function createEcsMetrics(registry: Registry = defaultRegistry): EcsMetrics {
  return {
    calls: reuse(
      registry,
      'berth_ecs_calls_total',
      () =>
        new Counter({
          name: 'berth_ecs_calls_total',
          help: 'ECS and EC2 API calls made by the driver, by operation and outcome (ok, failure, error)',
          labelNames: ['operation', 'outcome'] as const,
          registers: [registry],
        }),
    ),
    throttled: reuse(
      registry,
      'berth_ecs_throttled_total',
      () =>
        new Counter({
          name: 'berth_ecs_throttled_total',
          help: 'Attempts answered with ThrottlingException (retried by the SDK)',
          labelNames: ['operation'] as const,
          registers: [registry],
        }),
    ),
    throttleWait: reuse(
      registry,
      'berth_ecs_throttle_wait_seconds',
      () =>
        new Histogram({
          name: 'berth_ecs_throttle_wait_seconds',
          help: 'Seconds a call waited for a client-side ECS token bucket',
          labelNames: ['bucket'] as const,
          buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
          registers: [registry],
        }),
    ),
  };
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
