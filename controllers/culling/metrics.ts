// The culler's Prometheus metrics (`berth_culler_*`) on the controllers' registry.
import { Counter, Histogram, type Registry } from 'prom-client';

export interface CullerMetrics {
  passDuration: Histogram<'result'>;
  evaluated: Counter;
  warnings: Counter<'reason'>;
  cancelled: Counter;
  stops: Counter<'reason'>;
  sourceErrors: Counter<'source'>;
}

const cache = new WeakMap<Registry, CullerMetrics>();

/** Created once per registry (a second culler in one process shares them). */
export function cullerMetrics(registry: Registry): CullerMetrics {
  const existing = cache.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const m: CullerMetrics = {
    passDuration: new Histogram({
      name: 'berth_culler_pass_duration_seconds',
      help: 'How long one culling pass took; result: done, skipped (another replica held the lock) or failed.',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    evaluated: new Counter({
      name: 'berth_culler_instances_evaluated_total',
      help: 'Ready instances the culler evaluated (each pass counts each one).',
      registers,
    }),
    warnings: new Counter({
      name: 'berth_culler_warnings_total',
      help: 'Stops the culler scheduled (a stopWarning and a StopScheduled Event), by reason.',
      labelNames: ['reason'],
      registers,
    }),
    cancelled: new Counter({
      name: 'berth_culler_warnings_cancelled_total',
      help: 'Scheduled Idle stops cancelled because the instance was used again.',
      registers,
    }),
    stops: new Counter({
      name: 'berth_culler_stops_total',
      help: 'Instances the culler stopped, by reason (Idle, MaxLifetime).',
      labelNames: ['reason'],
      registers,
    }),
    sourceErrors: new Counter({
      name: 'berth_culler_source_errors_total',
      help: 'CPU source reads that failed (no Idle stops for its instances that pass), by source.',
      labelNames: ['source'],
      registers,
    }),
  };
  cache.set(registry, m);
  return m;
}
