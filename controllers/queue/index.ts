// controllers/queue/: the reconcile work queue on pg-boss.
export { backoffDelayMs, jitter } from './backoff.ts';
export { keyString, PRIORITY, type PriorityName, queueName, RECONCILE_CHANNEL } from './names.ts';
export {
  type EnqueueOptions,
  type QueueDepth,
  type ReconcileJob,
  ReconcileQueue,
  type ReconcileQueueOptions,
} from './reconcile-queue.ts';
export { startWakeListener, type WakeListener } from './wake-listener.ts';
export { needsReconcile, reconcileOnWrite } from './write-hook.ts';
