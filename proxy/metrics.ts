// Prometheus metrics (prom-client, own registry, `berth_proxy_` prefix). Labels
// are bounded: status code, upstream error kind. Never a user, host or path.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'code'>;
  readonly duration: Histogram;
  readonly upstreamErrors: Counter<'kind'>;
  readonly websockets: Gauge;
  readonly routes: Gauge;
  readonly launches: Counter;
  readonly activityWrites: Counter;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'berth_proxy_' });
    this.requests = new Counter({
      name: 'berth_proxy_requests_total',
      help: 'Requests answered, by status code',
      labelNames: ['code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'berth_proxy_request_duration_seconds',
      help: 'Time from request to response headers',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'berth_proxy_upstream_errors_total',
      help: 'Failed upstream exchanges, by kind (refused, reset, timeout, aborted, other)',
      labelNames: ['kind'],
      registers,
    });
    this.websockets = new Gauge({
      name: 'berth_proxy_websockets_open',
      help: 'WebSocket connections open through the proxy',
      registers,
    });
    this.routes = new Gauge({
      name: 'berth_proxy_routes',
      help: 'Routable tool instances in the route table',
      registers,
      // Every worker of a cluster holds the whole table: the same number, not a share.
      aggregator: 'max',
    });
    this.launches = new Counter({
      name: 'berth_proxy_launches_total',
      help: 'Tools launched on visit',
      registers,
    });
    this.activityWrites = new Counter({
      name: 'berth_proxy_activity_writes_total',
      help: 'lastActivityAt status writes',
      registers,
    });
  }
}
