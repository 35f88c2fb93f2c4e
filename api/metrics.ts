// Prometheus metrics on /metrics. One registry per server, so several servers
// in one process (tests) do not collide.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'code'>;
  duration: Histogram<'method' | 'route'>;
  openWatches: Gauge;
}

export function createMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'berth_api_process_' });
  return {
    registry,
    requests: new Counter({
      name: 'berth_api_requests_total',
      help: 'HTTP requests by method, route template and status code',
      labelNames: ['method', 'route', 'code'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'berth_api_request_duration_seconds',
      help: 'Time to answer a non-watch HTTP request, by method and route template',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    openWatches: new Gauge({
      name: 'berth_api_open_watches',
      help: 'Watch streams currently open',
      registers: [registry],
    }),
  };
}
