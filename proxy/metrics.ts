// Prometheus metrics (prom-client, own registry, `berth_proxy_` prefix). Labels
// are bounded: status code, upstream error kind. Never a user, host or path.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { LatencyHistogram } from './latency-histogram.ts';

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'code'>;
  readonly duration: LatencyHistogram;
  readonly upstreamErrors: Counter<'kind'>;
  readonly websockets: Gauge;
  readonly routes: Gauge;
  readonly launches: Counter;
  readonly activityWrites: Counter;
  readonly toolCookiesDropped: Counter<'reason'>;
  readonly refused: Counter<'check'>;

  /**
   * Responses by status code since the last scrape, added to `requests` when it is
   * collected: a labelled Counter.inc() hashes its labels on every call, this is
   * one array slot.
   */
  readonly #pendingByCode = new Float64Array(600);

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'berth_proxy_' });
    const pending = this.#pendingByCode;
    this.requests = new Counter({
      name: 'berth_proxy_requests_total',
      help: 'Requests answered, by status code',
      labelNames: ['code'],
      registers,
      collect() {
        for (let code = 100; code < pending.length; code++) {
          const n = pending[code]!;
          if (n === 0) continue;
          this.labels(String(code)).inc(n);
          pending[code] = 0;
        }
      },
    });
    this.duration = new LatencyHistogram({
      name: 'berth_proxy_request_duration_seconds',
      help: 'Time from request to response headers',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registry: this.registry,
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
    this.toolCookiesDropped = new Counter({
      name: 'berth_proxy_tool_cookies_dropped_total',
      help: 'Set-Cookie values from tools not delivered (reason: domain, berth-name, unparseable)',
      labelNames: ['reason'],
      registers,
    });
    this.refused = new Counter({
      name: 'berth_proxy_refused_total',
      help: 'Requests refused by a check (origin, launch-csrf, sign-in-rate, status-rate)',
      labelNames: ['check'],
      registers,
    });
  }

  /** One answered request: its status code and the seconds until its response headers. */
  countResponse(code: number, seconds: number): void {
    if (code >= 100 && code < 600) this.#pendingByCode[code] = this.#pendingByCode[code]! + 1;
    else this.requests.labels(String(code)).inc();
    this.duration.observe(seconds);
  }
}
