// Names shared by the queue's producers (store writes, reconcilers, resync) and its
// consumers (the manager): queue per kind, singleton key per object, priorities.
import { z } from 'zod';
import type { ObjectKey } from '../../store/index.ts';

/** NOTIFYed (payload: the kind) in the enqueueing transaction; workers LISTEN and fetch at once. */
export const RECONCILE_CHANNEL = 'berth_reconcile';

/**
 * pg-boss fetches higher priority first. A user's change (a store write that
 * needs a reconcile) outranks the controllers' own follow-ups (requeues, backoff,
 * the poller's and the GC's observations), which outrank the periodic resync: in
 * a burst, every requested launch reaches ECS before the bookkeeping of launches
 * already made, which a task's start-up (tens of seconds on Fargate) hides anyway.
 */
export const PRIORITY = { user: 10, system: 5, resync: 0 } as const;
export type PriorityName = keyof typeof PRIORITY;

/** One pg-boss queue per kind, policy `stately`. */
export function queueName(kind: string): string {
  return `reconcile-${kind.toLowerCase()}`;
}

/** `kind/namespace/name` (namespace empty for cluster-scoped kinds): the job's singletonKey. */
export function keyString(key: ObjectKey): string {
  return `${key.kind}/${key.namespace ?? ''}/${key.name}`;
}

/** What a reconcile job carries. `failures` drives the per-key backoff (not pg-boss retries). */
export const reconcileJobData = z.object({
  kind: z.string().min(1),
  namespace: z.string().min(1).optional(),
  name: z.string().min(1),
  failures: z.number().int().min(0).default(0),
  /** When the change that asked for this reconcile happened (ms since epoch), for the queue-wait metric. */
  enqueuedAt: z.number().optional(),
});
export type ReconcileJobData = z.infer<typeof reconcileJobData>;

export function objectKeyOf(data: ReconcileJobData): ObjectKey {
  return data.namespace === undefined
    ? { kind: data.kind, name: data.name }
    : { kind: data.kind, namespace: data.namespace, name: data.name };
}
