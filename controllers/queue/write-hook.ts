// Which store writes enqueue a reconcile, in the write's own transaction
// (ResourceStoreOptions.onWrite). A change a controller must act on does: create,
// delete, a spec change (generation), deletionTimestamp set, finalizers changed.
// Status-only writes do not (controllers write status themselves; a reconcile per
// status write would loop), nor do label/annotation-only changes. The poller and the
// reconcilers enqueue explicitly when they need a reconcile for other reasons.
// Related keys: any write of an AccessRequest (its approval is status-only)
// enqueues its Dataset, whose grants follow the decision.
import type { BerthObject } from '../../crds/index.ts';
import type { ObjectKey, PoolClient, WriteChange } from '../../store/index.ts';
import type { ReconcileQueue } from './reconcile-queue.ts';

export function needsReconcile(change: WriteChange): boolean {
  if (change.type !== 'MODIFIED' || !change.previous) return true;
  const before = change.previous.metadata;
  const after = change.object.metadata;
  return (
    before.generation !== after.generation ||
    before.deletionTimestamp !== after.deletionTimestamp ||
    !sameList(before.finalizers, after.finalizers)
  );
}

function sameList(a: string[] | undefined, b: string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * Objects whose every write (status-only ones too) changes what another object's
 * reconcile does: an AccessRequest's approval or denial is a status write, and
 * its Dataset's grants must follow within seconds.
 */
export function relatedKeys(change: WriteChange): ObjectKey[] {
  const o = change.object;
  if (o.kind === 'AccessRequest') {
    const names = new Set<string>();
    for (const x of [o, change.previous]) {
      const ds = (x?.spec as { dataset?: unknown } | undefined)?.dataset;
      if (typeof ds === 'string') names.add(ds);
    }
    return [...names].map((name) => ({ kind: 'Dataset', name }));
  }
  return [];
}

/** The store's onWrite hook: enqueue (user priority) for kinds that have a queue. */
export function reconcileOnWrite(
  queue: Pick<ReconcileQueue, 'enqueue' | 'handles'>,
): (client: PoolClient, change: WriteChange) => Promise<void> {
  return async (client, change) => {
    const o: BerthObject = change.object;
    for (const key of relatedKeys(change))
      if (queue.handles(key.kind)) await queue.enqueue(key, { client, priority: 'user' });
    if (!queue.handles(o.kind) || !needsReconcile(change)) return;
    await queue.enqueue(
      { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name },
      { client, priority: 'user' },
    );
  };
}
