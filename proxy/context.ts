// What every request handler of the proxy needs, built once by startProxy.
import type { Identity, ResourceStore, Sessions } from '../store/index.ts';
import type { ActivityRecorder } from './activity.ts';
import type { Authenticator } from './auth.ts';
import type { ProxyConfig } from './config.ts';
import type { ProxyLogger } from './log.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { ProxyRateLimits } from './rate-limits.ts';
import type { RouteTable } from './route-table.ts';
import type { Upstream } from './upstream.ts';
import type { WebSocketRelays } from './websocket.ts';

export interface ProxyContext {
  config: ProxyConfig;
  store: ResourceStore;
  identity: Identity;
  sessions: Sessions;
  auth: Authenticator;
  routes: RouteTable;
  activity: ActivityRecorder;
  metrics: ProxyMetrics;
  limits: ProxyRateLimits;
  relays: WebSocketRelays;
  api: Upstream;
  log: ProxyLogger;
  /** The /metrics body: this process's registry, or every worker's (cluster). */
  metricsText(): Promise<string>;
}
