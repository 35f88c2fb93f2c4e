// The controllers' settings: one zod schema over the environment, clear errors for
// bad values (the ECS driver has its own, controllers/ecs/config.ts).
import { z } from 'zod';

const int = (min: number, max: number, def: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

export const controllerConfigSchema = z.object({
  /** Reconciles running at once per kind in this process. */
  BERTH_CONTROLLER_CONCURRENCY: int(1, 1000, 50),
  /** A reconcile's AbortSignal fires after this long. */
  BERTH_CONTROLLER_RECONCILE_TIMEOUT_MS: int(10, 3_600_000, 60_000),
  /** Every object is enqueued at low priority this often (±10% jitter). 0 turns resync off. */
  BERTH_CONTROLLER_RESYNC_INTERVAL_MS: int(0, 86_400_000, 600_000),
  /** On SIGTERM: in-flight reconciles get this long to finish before they are aborted. */
  BERTH_CONTROLLER_SHUTDOWN_DEADLINE_MS: int(0, 600_000, 25_000),
  /** Backstop fetch when no NOTIFY arrived (jobs deferred by another replica, a lost connection). */
  BERTH_CONTROLLER_POLL_INTERVAL_MS: int(50, 600_000, 5_000),
  /** Per-key backoff after a failure: base × 2^n with jitter, capped. */
  BERTH_CONTROLLER_BACKOFF_BASE_MS: int(1, 60_000, 5),
  BERTH_CONTROLLER_BACKOFF_MAX_MS: int(1, 3_600_000, 300_000),
  /** A 409 Conflict (someone else wrote the object) is retried after about this long. */
  BERTH_CONTROLLER_CONFLICT_REQUEUE_MS: int(0, 60_000, 20),
  /**
   * A job whose worker stopped heartbeating (a killed replica) is retried after this
   * long (pg-boss heartbeatSeconds, at least 10) plus one supervise interval.
   */
  BERTH_CONTROLLER_HEARTBEAT_SECONDS: int(10, 3600, 10),
  BERTH_CONTROLLER_SUPERVISE_SECONDS: int(1, 3600, 5),
  /** pg-boss's own schema in the berth database. */
  BERTH_CONTROLLER_QUEUE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lowercase SQL identifier')
    .default('pgboss'),
  BERTH_CONTROLLER_METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  /** /metrics, /healthz, /readyz; 0 picks a free port, -1 turns the server off. */
  BERTH_CONTROLLER_METRICS_PORT: int(-1, 65535, 9464),
});

export interface ControllerConfig {
  concurrency: number;
  reconcileTimeoutMs: number;
  resyncIntervalMs: number;
  shutdownDeadlineMs: number;
  pollIntervalMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  conflictRequeueMs: number;
  heartbeatSeconds: number;
  superviseSeconds: number;
  queueSchema: string;
  metricsHost: string;
  metricsPort: number;
}

export class ControllerConfigError extends Error {
  override name = 'ControllerConfigError';
}

/** Parses the environment; throws ControllerConfigError naming each bad variable. */
export function loadControllerConfig(env: NodeJS.ProcessEnv = process.env): ControllerConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const r = controllerConfigSchema.safeParse(present);
  if (!r.success) {
    throw new ControllerConfigError(
      r.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; '),
    );
  }
  const e = r.data;
  return {
    concurrency: e.BERTH_CONTROLLER_CONCURRENCY,
    reconcileTimeoutMs: e.BERTH_CONTROLLER_RECONCILE_TIMEOUT_MS,
    resyncIntervalMs: e.BERTH_CONTROLLER_RESYNC_INTERVAL_MS,
    shutdownDeadlineMs: e.BERTH_CONTROLLER_SHUTDOWN_DEADLINE_MS,
    pollIntervalMs: e.BERTH_CONTROLLER_POLL_INTERVAL_MS,
    backoffBaseMs: e.BERTH_CONTROLLER_BACKOFF_BASE_MS,
    backoffMaxMs: e.BERTH_CONTROLLER_BACKOFF_MAX_MS,
    conflictRequeueMs: e.BERTH_CONTROLLER_CONFLICT_REQUEUE_MS,
    heartbeatSeconds: e.BERTH_CONTROLLER_HEARTBEAT_SECONDS,
    superviseSeconds: e.BERTH_CONTROLLER_SUPERVISE_SECONDS,
    queueSchema: e.BERTH_CONTROLLER_QUEUE_SCHEMA,
    metricsHost: e.BERTH_CONTROLLER_METRICS_HOST,
    metricsPort: e.BERTH_CONTROLLER_METRICS_PORT,
  };
}
