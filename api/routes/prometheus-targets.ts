// GET /apis/berth/v1alpha1/prometheus-targets: Prometheus HTTP service discovery
// (`http_sd_configs`) of the tools' metrics sidecars, as Data Workspace's
// Prometheus polls its own API for them. Prometheus presents
// BERTH_PROMETHEUS_SD_TOKEN, not a user's token: the route is outside user
// authentication and answers 404 (as if absent) when no token is configured.
// One group per running task (an instance Starting or Ready with an endpoint)
// whose ToolDefinition runs a sidecar named `metrics` with a port: the task's
// host from status.endpoint and that port, and labels naming the instance. A
// stopped instance's old endpoint is never listed (its address may already be
// another task's), and nothing but the address and names leaves the API.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError, type ToolDefinition, type ToolInstance } from '../../crds/index.ts';
import { WWW_AUTHENTICATE } from '../auth.ts';
import { type ApiDeps, withTimeout } from '../context.ts';
import { emptyQuery, parseQuery } from '../query.ts';
import { API_BASE } from './resources.ts';

export const PROMETHEUS_TARGETS_PATH = `${API_BASE}/prometheus-targets`;

/** The sidecar name that says a tool reports metrics (the contract with sidecars/metrics). */
export const METRICS_SIDECAR = 'metrics';

/** Phases in which the instance's task runs and its sidecar can be scraped. */
const SCRAPED_PHASES = new Set(['Starting', 'Ready']);

export interface TargetGroup {
  targets: [string];
  labels: {
    __meta_berth_namespace: string;
    __meta_berth_instance: string;
    __meta_berth_tool: string;
    __meta_berth_task_arn: string;
    __meta_berth_phase: string;
  };
}

/** The metrics port of each ToolDefinition that runs the `metrics` sidecar with one. */
function metricsPorts(definitions: readonly ToolDefinition[]): Map<string, number> {
  const ports = new Map<string, number>();
  for (const d of definitions) {
    const port = d.spec.sidecars?.find((s) => s.name === METRICS_SIDECAR)?.port;
    if (port !== undefined) ports.set(d.metadata.name, port);
  }
  return ports;
}

/** `10.0.3.7` from `http://10.0.3.7:8888` (IPv6 stays bracketed); undefined when not a URL. */
function endpointHost(endpoint: string): string | undefined {
  try {
    const host = new URL(endpoint).hostname;
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

/** The discovery answer for these records: pure, so the rules are tested without HTTP. */
export function prometheusTargets(
  definitions: readonly ToolDefinition[],
  instances: readonly ToolInstance[],
): TargetGroup[] {
  const ports = metricsPorts(definitions);
  const groups: TargetGroup[] = [];
  for (const ti of instances) {
    const status = ti.status;
    if (!status?.phase || !SCRAPED_PHASES.has(status.phase) || !status.endpoint) continue;
    const port = ports.get(ti.spec.toolRef);
    const host = endpointHost(status.endpoint);
    if (port === undefined || host === undefined) continue;
    groups.push({
      targets: [`${host}:${port}`],
      labels: {
        __meta_berth_namespace: ti.metadata.namespace ?? '',
        __meta_berth_instance: ti.metadata.name,
        __meta_berth_tool: ti.spec.toolRef,
        __meta_berth_task_arn: status.taskArn ?? '',
        __meta_berth_phase: status.phase,
      },
    });
  }
  return groups;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Whether the request carries the discovery token; compared in constant time (digests, equal length). */
function hasToken(header: string | string[] | undefined, expected: Buffer): boolean {
  if (typeof header !== 'string') return false;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m !== null && timingSafeEqual(digest(m[1]!), expected);
}

export function registerPrometheusTargetsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const token = deps.config.prometheusSdToken;
  // Off: the path does not exist (the not-found handler's 404).
  if (token === undefined) return;
  const expected = digest(token);
  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: PROMETHEUS_TARGETS_PATH,
    // Prometheus's token, not a user's: the user authentication hook stays out.
    config: { public: true },
    handler: async (req, reply) => {
      reply.header('Cache-Control', 'no-store');
      if (!hasToken(req.headers.authorization, expected)) {
        reply.header('WWW-Authenticate', WWW_AUTHENTICATE);
        throw new ApiError(
          'Unauthorized',
          'this path needs the Prometheus discovery token (BERTH_PROMETHEUS_SD_TOKEN) as "Authorization: Bearer <token>"',
        );
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        reply.header('Allow', 'GET, HEAD');
        throw new ApiError(
          'MethodNotAllowed',
          `method ${req.method} is not allowed here; allowed: GET`,
        );
      }
      parseQuery(emptyQuery, req.query);
      const read = async () => {
        // One list of each kind, whatever the number of instances.
        const [definitions, instances] = await Promise.all([
          deps.store.list('ToolDefinition', {}),
          deps.store.list('ToolInstance', {}),
        ]);
        return prometheusTargets(
          definitions.items as unknown as ToolDefinition[],
          instances.items as unknown as ToolInstance[],
        );
      };
      const groups = await withTimeout(
        read(),
        deps.config.requestTimeoutMs,
        'GET prometheus-targets',
      );
      // A media type Prometheus's HTTP SD accepts (application/json, charset utf-8 at most).
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(groups));
    },
  });
}
