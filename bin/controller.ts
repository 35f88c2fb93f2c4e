// `berth controller`: one controller replica (reconcilers, task poller, garbage
// collector) against DATABASE_URL (migrated at start) and ECS (BERTH_ECS_*, see
// controllers/README.md). Any number may run at once; they share the work through
// the pg-boss queue. Metrics on BERTH_CONTROLLER_METRICS_PORT (default 9464).
// `startControllerStack` is also what `berth up` runs in-process.
import pino from 'pino';
import { Registry } from 'prom-client';
import {
  type BucketName,
  type BucketSpec,
  ConfigError,
  type ControllerConfig,
  createCpuSources,
  createCuller,
  createEcsDriver,
  createSecretReader,
  createToolControllers,
  type EcsDriver,
  loadControllerConfig,
  loadEcsConfig,
  loadReconcilerConfig,
  type MetricsServer,
  type RunningControllers,
  startControllers,
  startMetricsServer,
} from '../controllers/index.ts';
import type { Pool } from '../store/index.ts';
import { openMigratedPool, requireDatabaseUrl } from './database.ts';
import { onShutdown } from './shutdown.ts';

export interface ControllerStack {
  controllers: RunningControllers;
  driver: EcsDriver;
  metrics?: MetricsServer;
  close(): Promise<void>;
}

export interface ControllerStackOptions {
  pool: Pool;
  env?: NodeJS.ProcessEnv;
  log: pino.Logger;
  config?: Partial<ControllerConfig>;
  /** Driver bucket overrides (ecs-local's smaller Fargate bucket). */
  buckets?: Partial<Record<BucketName, BucketSpec>>;
}

/** The driver, the reconcilers and the manager, plus the metrics server. */
export async function startControllerStack(o: ControllerStackOptions): Promise<ControllerStack> {
  const env = o.env ?? process.env;
  const config = { ...loadControllerConfig(env), ...o.config };
  const registry = new Registry();
  const ecsConfig = loadEcsConfig(env);
  const driver = createEcsDriver({
    config: ecsConfig,
    registry,
    ...(o.buckets ? { buckets: o.buckets } : {}),
    onWarning: (message) => o.log.warn({ check: 'security groups' }, message),
  });
  let controllers: RunningControllers | undefined;
  // The ToolInstance reconciler observes time to ready on ctx.metrics itself.
  // Databases' admin credentials in Secrets Manager: read as the ECS calls are signed.
  const readSecret = createSecretReader(env);
  const tools = createToolControllers({ env, readSecret });
  // One pass at a time across replicas (an advisory lock): every Ready instance, batched;
  // CPU from ECS task stats (CloudWatch), or Prometheus for tools with a metrics sidecar.
  const cpu = createCpuSources({ ecs: ecsConfig, prometheusUrl: config.prometheusUrl });
  const culler = createCuller({
    intervalMs: config.cullIntervalMs,
    sources: cpu.sources,
    registry,
  });
  try {
    controllers = await startControllers({
      pool: o.pool,
      driver,
      reconcilers: tools.reconcilers,
      runnables: [...tools.runnables, culler],
      config,
      registry,
      log: o.log,
    });
  } catch (err) {
    driver.close();
    readSecret.close();
    cpu.close();
    throw err;
  }
  const running = controllers;
  let metrics: MetricsServer | undefined;
  if (config.metricsPort >= 0) {
    try {
      metrics = await startMetricsServer({
        registry,
        host: config.metricsHost,
        port: config.metricsPort,
        ready: () => running.running,
      });
    } catch (err) {
      await running.close();
      driver.close();
      readSecret.close();
      cpu.close();
      const code = (err as { code?: string }).code;
      if (code === 'EADDRINUSE') {
        throw new Error(
          `the controller metrics port ${config.metricsPort} is in use; set BERTH_CONTROLLER_METRICS_PORT (0 = any free port, -1 = off)`,
        );
      }
      throw err;
    }
  }
  return {
    controllers: running,
    driver,
    ...(metrics ? { metrics } : {}),
    async close() {
      await running.close();
      await metrics?.close();
      driver.close();
      readSecret.close();
      cpu.close();
    },
  };
}

export async function runController(): Promise<void> {
  const log = pino({ name: 'berth-controller' });
  const url = requireDatabaseUrl('controller');
  if (!url) return;
  try {
    loadControllerConfig();
    loadEcsConfig(process.env);
    loadReconcilerConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`berth controller: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  const config = loadControllerConfig();
  // Reconciles, pg-boss and the poller share the pool.
  const pool = await openMigratedPool(url, log, {
    applicationName: 'berth-controller',
    max: Math.min(100, 10 + config.concurrency),
  });
  try {
    const stack = await startControllerStack({ pool, log });
    log.info(
      {
        metrics: stack.metrics?.url,
        concurrency: config.concurrency,
        startedBy: stack.driver.startedBy,
      },
      'controller running',
    );
    onShutdown(log, async () => {
      await stack.close();
      await pool.end();
    });
  } catch (err) {
    await pool.end().catch(() => {});
    if (!(err instanceof ConfigError)) throw err;
    console.error(`berth controller: ${err.message}`);
    process.exitCode = 2;
  }
}
