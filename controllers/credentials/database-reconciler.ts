// The Database reconciler: connects with the admin login (admin-pools.ts) and
// says in status whether it could: condition Connected (True with the server
// version, or False with DatabaseUnavailable's reason and a message without a
// secret), serverVersion, observedGeneration, and a Warning Event when False.
// It checks again every 5 minutes (30 s while False). When the database becomes
// reachable, the Datasets naming it are enqueued so their grants catch up. A
// deleted Database only loses its pool: its dataset roles are the Dataset
// reconciler's to drop, and logins the GC's.
import {
  type Condition,
  type Database,
  getCondition,
  isApiError,
  setCondition,
} from '../../crds/index.ts';
import { done, type ReconcileResult, type Reconciler, requeueAfter } from '../reconcile.ts';
import { listDatasets } from './access.ts';
import { DatabaseUnavailable } from './admin-credentials.ts';
import type { AdminPools } from './admin-pools.ts';

export const DATABASE_RECHECK_MS = 5 * 60_000;
export const DATABASE_RETRY_MS = 30_000;

export function createDatabaseReconciler(pools: AdminPools): Reconciler {
  return async (ctx, key): Promise<ReconcileResult> => {
    let db: Database;
    try {
      db = (await ctx.store.get('Database', undefined, key.name)) as Database;
    } catch (err) {
      if (!isApiError(err, 'NotFound')) throw err;
      await pools.forget(key.name);
      return done();
    }
    if (db.metadata.deletionTimestamp) {
      await pools.forget(key.name);
      return done();
    }
    let next: Condition;
    let serverVersion: string | undefined;
    try {
      const pool = await pools.get(db);
      const { rows } = await pool.query<{ v: string }>(
        "select current_setting('server_version') v",
      );
      serverVersion = rows[0]?.v;
      next = {
        type: 'Connected',
        status: 'True',
        reason: 'Connected',
        message: `Connected to PostgreSQL ${serverVersion ?? ''} as the admin login`.replace(
          '  ',
          ' ',
        ),
      };
    } catch (err) {
      const u =
        err instanceof DatabaseUnavailable
          ? err
          : new DatabaseUnavailable('ConnectFailed', 'the admin connection failed');
      if (!(err instanceof DatabaseUnavailable)) await pools.forget(key.name);
      next = { type: 'Connected', status: 'False', reason: u.reason, message: u.message };
    }
    const prev = getCondition(db.status?.conditions, 'Connected');
    const changed =
      prev?.status !== next.status ||
      prev?.reason !== next.reason ||
      prev?.message !== next.message ||
      db.status?.observedGeneration !== db.metadata.generation ||
      (serverVersion !== undefined && db.status?.serverVersion !== serverVersion);
    if (changed) {
      await ctx.store.patchStatus('Database', undefined, key.name, {
        status: {
          observedGeneration: db.metadata.generation,
          conditions: setCondition(
            db.status?.conditions,
            { ...next, observedGeneration: db.metadata.generation },
            ctx.now(),
          ),
          ...(serverVersion !== undefined ? { serverVersion } : {}),
        },
      });
    }
    if (next.status === 'False') {
      if (prev?.status !== 'False' || prev.reason !== next.reason) {
        await ctx.recordEvent({
          involvedObject: { kind: 'Database', name: key.name, uid: db.metadata.uid },
          type: 'Warning',
          reason: next.reason!,
          message: next.message!,
        });
      }
      return requeueAfter(DATABASE_RETRY_MS);
    }
    if (prev?.status !== 'True') {
      // Grants could not be made while it was down (or it is new): sync its Datasets now.
      for (const ds of await listDatasets(ctx.store)) {
        if (ds.spec.tables.some((t) => t.database === key.name))
          await ctx.enqueue({ kind: 'Dataset', name: ds.metadata.name });
      }
    }
    return requeueAfter(DATABASE_RECHECK_MS);
  };
}
