// The reconciler contract, after controller-runtime's Reconciler: one function, a
// key in, a result out. The machinery (queue, backoff, watches, replicas) lives in
// controllers/queue/ and controllers/manager.ts; a reconciler never assumes it saw
// every event, reads the current object, makes at most the calls needed, writes
// status and returns.
import type { ObjectKey, RecordEventInput, ResourceStore } from '../store/index.ts';
import type { EcsDriver } from './ecs/index.ts';
import type { ControllerMetrics } from './metrics.ts';

export type ReconcileResult =
  | { type: 'done' }
  /** Reconcile this key again after `afterMs` (polling a slow external state). */
  | { type: 'requeue'; afterMs: number }
  /** Stop retrying: the object cannot converge until its spec changes. */
  | { type: 'terminal'; reason: string };

export const done = (): ReconcileResult => ({ type: 'done' });
export const requeueAfter = (afterMs: number): ReconcileResult => ({ type: 'requeue', afterMs });
export const terminal = (reason: string): ReconcileResult => ({ type: 'terminal', reason });

/**
 * Thrown by a reconciler for a failure that is worth retrying only after a while
 * (ECS had no capacity). The queue backs off as for any error, from a base of at
 * least `minBackoffMs` instead of milliseconds; the failure count lives in the
 * queue's job, so the backoff survives the key moving to another replica.
 */
export class RetryLater extends Error {
  override name = 'RetryLater';
  readonly reason: string;
  readonly minBackoffMs: number;
  constructor(reason: string, message: string, minBackoffMs: number) {
    super(message);
    this.reason = reason;
    this.minBackoffMs = minBackoffMs;
  }
}

export interface ControllerLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
  debug(obj: Record<string, unknown>, msg: string): void;
}

export interface ReconcileContext {
  store: ResourceStore;
  driver: EcsDriver;
  log: ControllerLogger;
  /** Aborted when the reconcile times out or the process shuts down. */
  signal: AbortSignal;
  /** Ask for a reconcile of another (or the same) key, e.g. from the poller. */
  enqueue(
    key: ObjectKey,
    opts?: {
      delayMs?: number;
      /** Default `system` (a controller's follow-up); `user` only for what a person asked for. */
      priority?: 'user' | 'system' | 'resync';
      /** The key probably has a queued (delayed) job already: pull it forward first. */
      likelyQueued?: boolean;
    },
  ): Promise<void>;
  /** Records an aggregated Event (source component `berth-controller`). */
  recordEvent(input: Omit<RecordEventInput, 'source'>): Promise<void>;
  /**
   * Records an Event in the background, behind the reconciles (bounded; lost if
   * the process dies first). For Events on a hot path whose message is nearly
   * always new (it names a task or a time). Absent outside the manager.
   */
  recordEventLater?(input: Omit<RecordEventInput, 'source'>): void;
  now(): Date;
  /** The controller's metrics (e.g. `timeToReady`); set by the manager, absent in bare unit tests. */
  metrics?: ControllerMetrics;
  /**
   * Awaits `wait` without holding one of the kind's worker slots: for a reconcile
   * that only waits (an ECS rate-limit token), not works, so the slot can run
   * another key meanwhile. The key stays claimed (no second reconcile of it
   * starts). Absent outside the manager: then just await.
   */
  whileWaiting?<T>(wait: Promise<T>): Promise<T>;
}

/** A reconciler: `(ctx, key) => Result`. A thrown error means retry with backoff; a 409 Conflict requeues quietly. */
export type Reconciler = (ctx: ReconcileContext, key: ObjectKey) => Promise<ReconcileResult>;

/** Something that runs beside the reconcilers for the life of the manager (the task poller, the garbage collector). */
export interface Runnable {
  name: string;
  start(ctx: Omit<ReconcileContext, 'signal'> & { signal: AbortSignal }): Promise<void> | void;
}

/** The kinds berth's controllers reconcile: each has a queue, and writes to them enqueue. */
export const CONTROLLED_KINDS = ['ToolDefinition', 'ToolInstance', 'Database', 'Dataset'] as const;
