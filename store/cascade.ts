// Owner references, background policy (as the Kubernetes garbage collector): once an
// owner's removal has committed, each dependent with no other living owner is
// deleted (through the store, so its own finalizers and dependents count), and one
// with other owners just loses the dangling reference. `collectOrphans` finds what
// an interrupted cascade left behind.
import { type BerthObject, isApiError } from '../crds/index.ts';
import type { Pool } from './db.ts';
import * as sql from './sql.ts';
import type { ObjectStore } from './types.ts';

export interface Cascade {
  pool: Pool;
  store: Pick<ObjectStore, 'kindInfo' | 'delete' | 'updateWith'>;
  onBackgroundError: (err: unknown, what: string) => void;
}

interface Dependent {
  kind: string;
  namespace: string;
  name: string;
  object: BerthObject;
}

/** Processes the dependents of a removed owner; failures go to onBackgroundError (collectOrphans finishes later). */
export async function cascade(c: Cascade, ownerUid: string): Promise<void> {
  try {
    const { rows } = await c.pool.query<Dependent>(sql.dependentsOf, [
      JSON.stringify([{ uid: ownerUid }]),
    ]);
    for (const r of rows) await collectDependent(c, r, [ownerUid]);
  } catch (err) {
    c.onBackgroundError(err, 'cascading delete');
  }
}

/** Deletes (or unlinks) objects whose owners no longer exist; returns how many it found. */
export async function collectOrphans(c: Cascade): Promise<number> {
  const { rows } = await c.pool.query<Dependent & { gone: string[] }>(sql.orphans);
  for (const r of rows) await collectDependent(c, r, r.gone);
  return rows.length;
}

/** A dependent whose owners `gone` were removed: delete it when no owner is left, else drop those references. */
async function collectDependent(c: Cascade, dep: Dependent, gone: string[]): Promise<void> {
  const others = (dep.object.metadata.ownerReferences ?? [])
    .map((r) => r.uid)
    .filter((u) => !gone.includes(u));
  const namespace = dep.namespace || undefined;
  try {
    c.store.kindInfo(dep.kind); // a kind this store does not serve is left alone (NotFound)
    let alive = 0;
    if (others.length > 0) {
      const { rows } = await c.pool.query<{ n: number }>(sql.countLiving, [others]);
      alive = rows[0]!.n;
    }
    if (alive === 0) {
      await c.store.delete(dep.kind, namespace, dep.name, {
        preconditions: { uid: dep.object.metadata.uid! },
      });
    } else {
      await c.store.updateWith(dep.kind, namespace, dep.name, (cur) => {
        cur.metadata.ownerReferences = (cur.metadata.ownerReferences ?? []).filter(
          (r) => !gone.includes(r.uid),
        );
        return cur;
      });
    }
  } catch (err) {
    if (isApiError(err, 'NotFound') || isApiError(err, 'Conflict')) return; // already gone or replaced
    c.onBackgroundError(err, 'cascading delete');
  }
}
