// The controller's Prometheus metrics (prom-client, `berth_` prefix). The ECS
// driver registers its own (berth_ecs_*) on the same registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type ReconcileOutcome = 'done' | 'requeue' | 'terminal' | 'error' | 'conflict' | 'timeout';

export interface ControllerMetrics {
  reconciles: Counter<'kind' | 'result'>;
  reconcileDuration: Histogram<'kind'>;
  /** From the change that asked for a reconcile to its start (queue wait + wake-up). */
  queueWait: Histogram<'kind'>;
  inflight: Gauge<'kind'>;
  queueDepth: Gauge<'kind' | 'state'>;
  /** From `spec.state: Running` being requested to Ready; the ToolInstance reconciler observes it. */
  timeToReady: Histogram<'tool'>;
  instancesByPhase: Gauge<'phase'>;
  /** Where the scrape-time gauges read from; the manager fills these in. */
  sources: ControllerMetricsSources;
}

export interface ControllerMetricsSources {
  /** Read at scrape time. */
  queueDepth?: () => Promise<{ kind: string; state: string; count: number }[]>;
  /** Read at scrape time: ToolInstances per status.phase. */
  instancesByPhase?: () => Promise<Record<string, number>>;
}

const cache = new WeakMap<Registry, ControllerMetrics>();

/**
 * The metrics on `registry`, created once per registry (so reconcilers and the
 * manager share them). `sources` feed the gauges read at scrape time.
 */
export function controllerMetrics(registry: Registry): ControllerMetrics {
  const existing = cache.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const sources: ControllerMetricsSources = {};
  const m: ControllerMetrics = {
    reconciles: new Counter({
      name: 'berth_controller_reconciles_total',
      help: 'Reconciles by kind and result (done, requeue, terminal, error, conflict, timeout).',
      labelNames: ['kind', 'result'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'berth_controller_reconcile_duration_seconds',
      help: 'How long one reconcile took.',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    queueWait: new Histogram({
      name: 'berth_controller_queue_wait_seconds',
      help: 'From the change that enqueued a reconcile (or its requested delay) to the reconcile starting.',
      labelNames: ['kind'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers,
    }),
    inflight: new Gauge({
      name: 'berth_controller_reconciles_in_flight',
      help: 'Reconciles running in this process.',
      labelNames: ['kind'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'berth_controller_queue_depth',
      help: 'Reconcile jobs by kind and state (created and retry are queued, active are running), all replicas.',
      labelNames: ['kind', 'state'],
      registers,
      async collect() {
        if (!sources.queueDepth) return;
        const rows = await sources.queueDepth().catch(() => undefined);
        if (!rows) return;
        this.reset();
        for (const r of rows) this.set({ kind: r.kind, state: r.state }, r.count);
      },
    }),
    timeToReady: new Histogram({
      name: 'berth_instance_time_to_ready_seconds',
      help: 'From a ToolInstance being asked to run to it being Ready, by ToolDefinition.',
      labelNames: ['tool'],
      buckets: [1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600],
      registers,
    }),
    instancesByPhase: new Gauge({
      name: 'berth_instances',
      help: 'ToolInstances by status.phase.',
      labelNames: ['phase'],
      registers,
      async collect() {
        if (!sources.instancesByPhase) return;
        const counts = await sources.instancesByPhase().catch(() => undefined);
        if (!counts) return;
        this.reset();
        for (const [phase, n] of Object.entries(counts)) this.set({ phase }, n);
      },
    }),
    sources,
  };
  cache.set(registry, m);
  return m;
}
