// The controllers' settings (the queue and the manager), read by the one settings
// loader (settings/). The ECS driver's are in controllers/ecs/config.ts, the
// reconcilers' in controllers/reconcilers/config.ts.
import { z } from 'zod';
import { durationMs, integer, loadSettings, setting } from '../settings/index.ts';

export const controllerConfigSchema = z.object({
  concurrency: setting(integer(1, 1000).default(50), {
    env: 'BERTH_CONTROLLER_CONCURRENCY',
    description: 'Reconciles running at once per kind in this process.',
  }),
  reconcileTimeoutMs: setting(durationMs(10, 3_600_000).default(60_000), {
    env: 'BERTH_CONTROLLER_RECONCILE_TIMEOUT_MS',
    description: "A reconcile's AbortSignal fires after this long.",
  }),
  resyncIntervalMs: setting(durationMs(0, 86_400_000).default(600_000), {
    env: 'BERTH_CONTROLLER_RESYNC_INTERVAL_MS',
    description:
      'Every object is enqueued at low priority this often (±10% jitter); 0 turns resync off.',
  }),
  shutdownDeadlineMs: setting(durationMs(0, 600_000).default(25_000), {
    env: 'BERTH_CONTROLLER_SHUTDOWN_DEADLINE_MS',
    description:
      'On SIGTERM, in-flight reconciles get this long to finish before they are aborted.',
  }),
  pollIntervalMs: setting(durationMs(50, 600_000).default(5_000), {
    env: 'BERTH_CONTROLLER_QUEUE_POLL_MS',
    replaces: ['BERTH_CONTROLLER_POLL_INTERVAL_MS'],
    description:
      'How often the work queue is fetched when no NOTIFY arrived (jobs deferred by another replica, a lost connection).',
  }),
  backoffBaseMs: setting(durationMs(1, 60_000).default(5), {
    env: 'BERTH_CONTROLLER_BACKOFF_BASE_MS',
    description: 'Per-key backoff after a failure: base × 2^n with jitter, capped.',
  }),
  backoffMaxMs: setting(durationMs(1, 3_600_000).default(300_000), {
    env: 'BERTH_CONTROLLER_BACKOFF_MAX_MS',
    description: 'The per-key backoff never waits longer than this.',
  }),
  conflictRequeueMs: setting(durationMs(0, 60_000).default(20), {
    env: 'BERTH_CONTROLLER_CONFLICT_REQUEUE_MS',
    description: 'A 409 Conflict (someone else wrote the object) is retried after about this long.',
  }),
  heartbeatMs: setting(durationMs(10_000, 3_600_000).multipleOf(1000).default(10_000), {
    env: 'BERTH_CONTROLLER_HEARTBEAT_MS',
    replaces: ['BERTH_CONTROLLER_HEARTBEAT_SECONDS'],
    description:
      'A job whose worker stopped heartbeating (a killed replica) is retried after this long plus one supervise interval; a multiple of 1000, as pg-boss counts seconds.',
  }),
  superviseMs: setting(durationMs(1000, 3_600_000).multipleOf(1000).default(5_000), {
    env: 'BERTH_CONTROLLER_SUPERVISE_MS',
    replaces: ['BERTH_CONTROLLER_SUPERVISE_SECONDS'],
    description:
      'How often pg-boss supervises its queues; a multiple of 1000, as pg-boss counts seconds.',
  }),
  queueSchema: setting(
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lowercase SQL identifier')
      .default('pgboss'),
    {
      env: 'BERTH_CONTROLLER_QUEUE_SCHEMA',
      description: "pg-boss's own schema in the berth database.",
    },
  ),
  cullIntervalMs: setting(durationMs(100, 3_600_000).default(60_000), {
    env: 'BERTH_CULL_INTERVAL_MS',
    description:
      'How often the culler evaluates every Ready instance (one replica at a time): warns ahead of, and makes, Idle and MaxLifetime stops.',
  }),
  prometheusUrl: setting(
    z.url({ error: 'must be a URL such as http://127.0.0.1:9090' }).optional(),
    {
      env: 'BERTH_PROMETHEUS_URL',
      shownDefault: "none: every tool's CPU comes from ECS task stats",
      description:
        'The Prometheus that scrapes the metrics sidecars: the culler reads the CPU of tools with a `metrics` sidecar from it.',
    },
  ),
  metricsHost: setting(z.string().min(1).default('0.0.0.0'), {
    env: 'BERTH_CONTROLLER_METRICS_HOST',
    description: 'Address of the /metrics, /healthz and /readyz server.',
  }),
  metricsPort: setting(integer(-1, 65535).default(9464), {
    env: 'BERTH_CONTROLLER_METRICS_PORT',
    description:
      'Port of /metrics, /healthz, /readyz; 0 picks a free port, -1 turns the server off.',
  }),
});

export interface ControllerConfig {
  concurrency: number;
  reconcileTimeoutMs: number;
  resyncIntervalMs: number;
  shutdownDeadlineMs: number;
  /** The queue's backstop fetch (BERTH_CONTROLLER_QUEUE_POLL_MS). */
  pollIntervalMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  conflictRequeueMs: number;
  heartbeatSeconds: number;
  superviseSeconds: number;
  queueSchema: string;
  metricsHost: string;
  metricsPort: number;
  /** The culler's pass interval (BERTH_CULL_INTERVAL_MS). */
  cullIntervalMs: number;
  /** BERTH_PROMETHEUS_URL: the CPU of tools with a metrics sidecar; absent: ECS task stats for all. */
  prometheusUrl?: string;
}

/** Reads the controllers' settings; throws ConfigError naming each bad variable. */
export function loadControllerConfig(env: NodeJS.ProcessEnv = process.env): ControllerConfig {
  const { heartbeatMs, superviseMs, ...rest } = loadSettings(controllerConfigSchema, env, {
    component: 'controller',
  });
  // pg-boss counts these in seconds.
  return { ...rest, heartbeatSeconds: heartbeatMs / 1000, superviseSeconds: superviseMs / 1000 };
}
