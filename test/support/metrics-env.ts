// berth with metrics, as `make run` has it: ecs-local running the demo images
// (the metrics sidecar among them), the real controllers, the API serving
// Prometheus discovery behind a token, and a real Prometheus that discovers
// and scrapes the sidecars through it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROMETHEUS_TARGETS_PATH, type RunningApi, startApi } from '../../api/index.ts';
import type { ToolDefinitionSpecInput } from '../../crds/index.ts';
import { type Env, examples, startEnv } from '../controllers/reconcile-support.ts';
import { type RunningPrometheus, startPrometheus } from './prometheus.ts';

/** The sidecar as a ToolDefinition runs it (sidecars/metrics/README.md). */
export const METRICS_SIDECAR = {
  name: 'metrics',
  image: 'berth/metrics:latest',
  port: 8889,
  healthCheck: { command: ['CMD', 'metrics', 'healthcheck'], intervalSeconds: 5 },
  restartOnExit: true,
};

/** The demo tool's spec (examples/demo.yaml) with the metrics sidecar (once). */
export function demoWithMetrics(): ToolDefinitionSpecInput {
  const demo = parse(readFileSync(join(examples, 'demo.yaml'), 'utf8'));
  const others = (demo.spec.sidecars ?? []).filter((s: { name: string }) => s.name !== 'metrics');
  return { ...demo.spec, sidecars: [...others, METRICS_SIDECAR] };
}

export interface MetricsEnv {
  env: Env;
  api: RunningApi;
  prometheus: RunningPrometheus;
  sdToken: string;
  scrapeIntervalMs: number;
  close(): Promise<void>;
}

export async function startMetricsEnv(opts: {
  addressOctet: number;
  /** More ecs-local image map entries (a busy tool). */
  images?: Record<string, { command: string | string[]; args?: string[] }>;
  scrapeIntervalMs?: number;
}): Promise<MetricsEnv> {
  const scrapeIntervalMs = opts.scrapeIntervalMs ?? 1000;
  const sdToken = randomBytes(24).toString('hex');
  const env = await startEnv({
    addressOctet: opts.addressOctet,
    ...(opts.images ? { images: opts.images } : {}),
  });
  let api: RunningApi | undefined;
  let prometheus: RunningPrometheus | undefined;
  const close = async () => {
    await prometheus?.close().catch(() => {});
    await api?.close().catch(() => {});
    await env.close();
  };
  try {
    api = await startApi({
      pool: env.db.pool,
      port: 0,
      signIn: false,
      config: { logLevel: 'silent', prometheusSdToken: sdToken, maintenanceIntervalMs: 0 },
    });
    prometheus = await startPrometheus({
      sdUrl: api.url + PROMETHEUS_TARGETS_PATH,
      sdToken,
      scrapeIntervalMs,
      refreshIntervalMs: 1000,
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { env, api, prometheus, sdToken, scrapeIntervalMs, close };
}
